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
