//! The one input abstraction of covdata: where counters come from. Every
//! report, `merge` and the center's own store load through [`Source`]:
//!
//! - [`Source::Dirs`]: COVDIRs on disk (pools, locks, `--ignore-bad`).
//! - [`Source::Memory`]: files held in memory ([`MemDir`]), e.g. a
//!   covbundle or the center's store.
//! - [`Source::Center`]: a center over HTTP; its profile is fetched as a
//!   covbundle and loaded from memory.
//!
//! All three give the same [`Loaded`] for the same files.

mod memory;

use std::path::PathBuf;
use std::time::Duration;

pub use memory::{load_memory, load_memory_observed, MemDir};

use crate::center::client::{Client, Selection};
use crate::error::{Error, ErrorKind, Result};
use crate::reader::{load_observed, LoadOptions, Loaded, RunObserver};

/// A center to profile.
#[derive(Clone, Debug)]
pub struct CenterInput {
    /// The center's client (URL, token, timeout).
    pub client: Client,
    /// The agents to include.
    pub selection: Selection,
    /// How long each agent may take to answer.
    pub agent_timeout: Duration,
}

/// Where counters come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Input directories, in order.
    Dirs(Vec<PathBuf>),
    /// Files in memory.
    Memory(MemDir),
    /// A center's live profile.
    Center(CenterInput),
}

/// What a load of a [`Source`] gives.
#[derive(Clone, Debug, Default)]
pub struct SourceLoaded {
    /// The pods.
    pub loaded: Loaded,
    /// Warnings about the source itself (a center's skipped agents), one
    /// line each, without the `covdata: warning: ` prefix.
    pub warnings: Vec<String>,
}

impl Source {
    /// What messages call the source.
    pub fn describe(&self) -> String {
        match self {
            Source::Dirs(dirs) => dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(","),
            Source::Memory(m) => m.origin().to_string(),
            Source::Center(c) => c.client.url().to_string(),
        }
    }

    /// Loads the source's pods with the rules of [`crate::load`].
    pub fn load(&self, opts: LoadOptions) -> Result<SourceLoaded> {
        self.load_observed(opts, None)
    }

    /// [`Source::load`], showing `observer` the pods and every run read
    /// (see [`crate::reader::load_observed`]).
    pub fn load_observed(
        &self,
        opts: LoadOptions,
        observer: Option<&dyn RunObserver>,
    ) -> Result<SourceLoaded> {
        match self {
            Source::Dirs(dirs) => Ok(SourceLoaded {
                loaded: load_observed(dirs, opts, observer)?,
                warnings: Vec::new(),
            }),
            Source::Memory(mem) => Ok(SourceLoaded {
                loaded: load_memory_observed(mem, opts, observer)?,
                warnings: Vec::new(),
            }),
            Source::Center(c) => {
                let profile = c
                    .client
                    .profile(&c.selection, c.agent_timeout, false)
                    .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
                let warnings = profile.skipped.iter().map(|s| skipped_line(s)).collect();
                Ok(SourceLoaded {
                    loaded: load_memory_observed(&profile.files, opts, observer)?,
                    warnings,
                })
            }
        }
    }
}

/// The warning for one `Covwrap-Skipped` header value.
pub fn skipped_line(header: &str) -> String {
    format!("agent skipped: {header}")
}
