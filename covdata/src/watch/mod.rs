//! The pieces of `covdata watch` that are not the loop itself (the loop,
//! its signals and its child processes are the command line's, in
//! `cli/watch/`):
//!
//! - [`state`]: the version counter and the fingerprint of the coverage
//!   last written, kept next to the outputs so both survive restarts
//!   (docs/FORMAT.md, "covdata watch state");
//! - [`fingerprint`]: what "coverage changed" means: a digest of every
//!   number the reports print;
//! - [`template`]: `--on-change` placeholders, shell-quoted;
//! - [`failures`]: each failure reported once while it repeats, and once
//!   when it stops;
//! - [`clock`]: the UTC time of the status lines.

pub mod clock;
pub mod failures;
pub mod fingerprint;
pub mod state;
pub mod template;
