//! covdata
