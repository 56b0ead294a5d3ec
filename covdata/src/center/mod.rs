//! The center: `covdata serve` and its clients (docs/CENTER.md).
//!
//! - [`wire`]: the JSON messages; [`bundle`]: the covbundle encoding.
//! - [`http`], [`client`]: the client side (the commands, `--center`).
//! - [`registry`], [`store`]: what a center keeps; [`server`]: `covdata serve`.

pub mod bundle;
pub mod client;
pub mod http;
pub mod registry;
pub mod server;
pub mod sim;
pub mod store;
pub mod table;
pub mod wire;

pub use server::{serve, ServeOptions};

/// The wall clock in ns since the Unix epoch (0 before it): the times of
/// the center's registry, its simulated agents and its tables.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
