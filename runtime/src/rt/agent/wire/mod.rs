//! The agent's wire code: the center's URL, a bounded JSON reader and
//! writer, and a small HTTP/1.1 client. Plain std, no runtime state, so it
//! is unit-tested (against real sockets) outside the embedded build too.

pub mod http;
pub mod json;
pub mod url;
