//! covwrap's on-disk formats, shared by the runtime (which writes them),
//! covwrap (which fills a binary's H slot) and covdata (which reads them).
//!
//! - [`defs`]: every magic, version, offset and name; the byte diagrams.
//! - [`meta`] / [`counters`]: symmetric encoders and decoders per file kind.
//! - [`from_elf`]: the meta file of an instrumented binary.
//! - [`names`]: file names and their parsing.
//! - [`dense`]: dense counter files, mapped by processes in continuous mode.
//! - [`dirfiles`]: creating, locking and cleaning files in a (shared) COVDIR.
//!
//! The specification is docs/FORMAT.md.

pub mod bytes;
pub mod counters;
pub mod crc32;
pub mod defs;
pub mod dense;
#[cfg(unix)]
pub mod dirfiles;
pub mod elf;
pub mod error;
pub mod from_elf;
pub mod kv;
pub mod leb128;
pub mod md5;
pub mod meta;
pub mod names;

pub use error::{ErrorKind, FormatError, Result};
