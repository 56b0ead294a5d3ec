//! End-to-end tests: real cargo builds with covwrap, real runs, covdata.
