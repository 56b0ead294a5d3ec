//! The marker file's content (docs/FORMAT.md, "covdata html report"):
//! what each file of a report held when it was written, so that writing
//! the report again can keep a file whose bytes did not change (a hard
//! link into the new report) instead of writing it again, as coverage.py's
//! htmlcov skips unchanged pages.
//!
//! A file is kept only when its new bytes hash to the recorded hash and
//! the file on disk still has the recorded length and was not modified
//! after the marker was written (it was not edited since). The marker
//! holds no times, so that the same inputs still give byte-identical
//! reports. Anything unreadable reads as "nothing recorded": the file is
//! then written.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::time::SystemTime;

/// The marker's first line, all a version-0 marker held.
pub const FIRST_LINE: &str = "covdata html report";

/// What the marker records of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// XXH3-128 of the file's bytes.
    pub hash: u128,
    /// Its length in bytes.
    pub len: u64,
}

impl Entry {
    /// The entry of `bytes`.
    pub fn of(bytes: &[u8]) -> Entry {
        Entry {
            hash: xxhash_rust::xxh3::xxh3_128(bytes),
            len: bytes.len() as u64,
        }
    }

    /// Whether `path` is still a file of this entry's length, not modified
    /// after `marked` (the marker's modification time): the file the
    /// entry recorded, not edited since.
    pub fn is_on_disk(&self, path: &Path, marked: SystemTime) -> bool {
        std::fs::symlink_metadata(path).is_ok_and(|meta| {
            meta.is_file() && meta.len() == self.len && meta.modified().is_ok_and(|t| t <= marked)
        })
    }
}

/// Path (relative to the report directory, `/`-separated) → entry, and
/// when the marker was written (the Unix epoch for one not read from a
/// file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    entries: BTreeMap<String, Entry>,
    marked: SystemTime,
}

impl Default for Manifest {
    fn default() -> Manifest {
        Manifest {
            entries: BTreeMap::new(),
            marked: SystemTime::UNIX_EPOCH,
        }
    }
}

/// The manifest in the marker file `path`, with the marker's modification
/// time; empty when there is no readable marker.
pub fn read(path: &Path) -> Manifest {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Manifest::default();
    };
    let mut text = String::new();
    match (
        file.read_to_string(&mut text),
        file.metadata().and_then(|m| m.modified()),
    ) {
        (Ok(_), Ok(marked)) => Manifest {
            marked,
            ..Manifest::parse(&text)
        },
        _ => Manifest::default(),
    }
}

impl Manifest {
    /// The manifest of a marker's text; lines that do not parse are left
    /// out (their files are written again).
    pub fn parse(text: &str) -> Manifest {
        let mut lines = text.lines();
        if lines.next() != Some(FIRST_LINE) {
            return Manifest::default();
        }
        let entries = lines
            .filter_map(|line| {
                let mut fields = line.splitn(3, ' ');
                let hash = u128::from_str_radix(fields.next()?, 16).ok()?;
                let len = fields.next()?.parse().ok()?;
                let path = fields.next().filter(|p| is_plain_relative(p))?;
                Some((path.to_string(), Entry { hash, len }))
            })
            .collect();
        Manifest {
            entries,
            ..Manifest::default()
        }
    }

    /// The marker's text: the first line, then one line per file in path
    /// order.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(64 + 120 * self.entries.len());
        out.push_str(FIRST_LINE);
        out.push('\n');
        for (path, e) in &self.entries {
            out.push_str(&format!("{:032x} {} {path}\n", e.hash, e.len));
        }
        out
    }

    /// The entry of `path`.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Whether the file this manifest recorded at `rel` is `entry` and is
    /// still on disk at `path` as written (see [`Entry::is_on_disk`]).
    pub fn unchanged(&self, rel: &str, entry: &Entry, path: &Path) -> bool {
        self.get(rel) == Some(entry) && entry.is_on_disk(path, self.marked)
    }

    /// Records `path`.
    pub fn insert(&mut self, path: &str, entry: Entry) {
        self.entries.insert(path.to_string(), entry);
    }
}

/// A path the report itself could have written: relative, no `..`, no
/// empty part, no line break (a hand-edited marker names nothing else).
fn is_plain_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains(['\n', '\r', '\\'])
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_path_order() {
        let mut m = Manifest::default();
        m.insert(
            "index.html",
            Entry {
                hash: u128::MAX,
                len: 3,
            },
        );
        m.insert("files/a b.rs.html", Entry { hash: 1, len: 0 });
        let text = m.encode();
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "00000000000000000000000000000001 0 files/a b.rs.html"
        );
        assert_eq!(Manifest::parse(&text), m);
    }

    #[test]
    fn an_old_or_damaged_marker_records_nothing_it_cannot_read() {
        assert_eq!(
            Manifest::parse("covdata html report\n"),
            Manifest::default()
        );
        assert_eq!(Manifest::parse(""), Manifest::default());
        assert_eq!(
            Manifest::parse("something else\n0 0 x\n"),
            Manifest::default()
        );
        let text = "covdata html report\n\
                    zz 1 bad-hash\n\
                    1 x bad-len\n\
                    1 1 ../escape\n\
                    1 1 /abs\n\
                    1 1 a//b\n\
                    1 1\n\
                    2 5 files/ok.html\n";
        let m = Manifest::parse(text);
        assert_eq!(m.entries.len(), 1);
        assert_eq!(m.get("files/ok.html").unwrap().len, 5);
    }

    #[test]
    fn an_entry_is_on_disk_only_as_written_and_not_edited_since() {
        let dir = std::env::temp_dir().join(format!("covdata-manifest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("page.html");
        std::fs::write(&path, "<p>one</p>").unwrap();
        let e = Entry::of(b"<p>one</p>");
        assert_ne!(e, Entry::of(b"<p>two</p>"), "other bytes, same length");
        assert_ne!(e, Entry::of(b"<p>one!</p>"));
        std::fs::write(dir.join("marker"), "").unwrap();
        let marked = std::fs::metadata(dir.join("marker"))
            .unwrap()
            .modified()
            .unwrap();
        assert!(e.is_on_disk(&path, marked));
        assert!(!Entry::of(b"<p>one!</p>").is_on_disk(&path, marked));
        assert!(!e.is_on_disk(&dir.join("missing.html"), marked));
        assert!(!e.is_on_disk(&dir, marked), "a directory");
        // Edited on disk after the marker (same length).
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "<p>ONE</p>").unwrap();
        assert!(!e.is_on_disk(&path, marked));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
