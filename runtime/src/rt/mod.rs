//! The runtime linked into instrumented programs (see the crate docs).
pub mod api {}
