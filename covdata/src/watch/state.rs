//! What `covdata watch` remembers between rounds and across restarts, in
//! one small JSON file next to its outputs (docs/FORMAT.md, "covdata watch
//! state"), written atomically after the outputs of a round:
//!
//! - `version`: the `{version}` of the outputs last written, 1 for the
//!   first; it only grows, also across restarts (the seed loop's NUM);
//! - `coverage`: the [fingerprint](super::fingerprint) of what they show,
//!   so a restart with unchanged coverage writes nothing and runs nothing;
//! - `config`: a digest of the flags that shape the outputs (which reports,
//!   where, `--root`, filters): changing them writes everything again;
//! - `lines`: the line totals, for the delta of the next status line;
//! - `pending`: the `--on-change` command for `version` has not succeeded
//!   yet (it failed, or watch stopped first): the next round runs it again.
//!
//! A lock file beside it (`<state>.lock`, `flock`ed for the life of the
//! process) keeps two watchers from sharing one state.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// The value of the file's `covdata_watch_state` key.
pub const FORMAT_VERSION: u32 = 1;

/// The default file name, in the directory of the first output.
pub const FILE_NAME: &str = ".covdata-watch";

/// The persisted state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Always [`FORMAT_VERSION`].
    pub covdata_watch_state: u32,
    /// The version of the outputs last written (0: none yet).
    pub version: u64,
    /// Fingerprint of the coverage they show (hex).
    pub coverage: String,
    /// Digest of the configuration that wrote them (hex).
    pub config: String,
    /// Lines covered and lines to cover in them.
    pub lines: [u64; 2],
    /// The `--on-change` command of `version` has yet to succeed.
    pub pending: bool,
}

impl State {
    /// The state before any round.
    pub fn new() -> State {
        State {
            covdata_watch_state: FORMAT_VERSION,
            ..State::default()
        }
    }

    /// Reads `path`; a missing file is the state before any round.
    pub fn load(path: &Path) -> Result<State> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::new()),
            Err(e) => return Err(Error::io(path, &e)),
        };
        let state: State = serde_json::from_slice(&bytes).map_err(|e| {
            Error::corrupt(format!(
                "not a covdata watch state ({e}); remove it to start again at version 1"
            ))
            .at(path)
        })?;
        if state.covdata_watch_state != FORMAT_VERSION {
            return Err(Error::new(
                ErrorKind::UnsupportedVersion(state.covdata_watch_state),
                format!(
                    "covdata watch state version {}; this build reads version {FORMAT_VERSION}",
                    state.covdata_watch_state
                ),
            )
            .at(path));
        }
        Ok(state)
    }

    /// Writes `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string(self).expect("plain data");
        text.push('\n');
        crate::output::write_atomic(path, |w| w.write_all(text.as_bytes()))
    }
}

/// The held lock of a state file; released when dropped or when the
/// process dies.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    /// Locks `<state>.lock` (created if missing), or fails at once with one
    /// line when another process holds it.
    pub fn acquire(state: &Path) -> Result<StateLock> {
        use covwrap_rt::format::dirfiles::{open_lock, try_lock, LOCK_EX};
        let mut name = state.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let file = open_lock(&path, true).map_err(|e| Error::io(&path, &e))?;
        match try_lock(&file, LOCK_EX) {
            Ok(true) => Ok(StateLock { _file: file }),
            Ok(false) => Err(Error::new(
                ErrorKind::Io,
                "another covdata watch uses this state; give each watcher its own --state",
            )
            .at(&path)),
            Err(e) => Err(Error::io(&path, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("covdata-state-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn round_trips_and_starts_at_zero() {
        let d = scratch("trip");
        let path = d.join(FILE_NAME);
        assert_eq!(State::load(&path).unwrap(), State::new());
        let s = State {
            version: 7,
            coverage: "ab".repeat(16),
            config: "cd".repeat(16),
            lines: [5, 9],
            pending: true,
            ..State::new()
        };
        s.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap(), s);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("{\"covdata_watch_state\":1,\"version\":7,"),
            "{text}"
        );
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn bad_files_are_one_line_naming_the_file() {
        let d = scratch("bad");
        let path = d.join(FILE_NAME);
        std::fs::write(&path, "garbage").unwrap();
        let e = State::load(&path).unwrap_err().to_string();
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        assert!(e.contains("not a covdata watch state"), "{e}");
        std::fs::write(&path, r#"{"covdata_watch_state":9,"version":1,"coverage":"","config":"","lines":[0,0],"pending":false}"#).unwrap();
        let e = State::load(&path).unwrap_err().to_string();
        assert!(e.contains("state version 9"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn one_watcher_per_state() {
        let d = scratch("lock");
        let path = d.join(FILE_NAME);
        let held = StateLock::acquire(&path).unwrap();
        let e = StateLock::acquire(&path).unwrap_err().to_string();
        assert!(e.contains("another covdata watch uses this state"), "{e}");
        drop(held);
        StateLock::acquire(&path).unwrap();
        std::fs::remove_dir_all(d).unwrap();
    }
}
