//! The marker file's content (docs/FORMAT.md, "covdata html report marker"):
//! what each file of a report held when it was written, so that writing
//! the report again can keep a file instead of writing it again (a hard
//! link into the new report), as coverage.py's htmlcov skips unchanged
//! pages.
//!
//! A file is kept when the file on disk still has the recorded length and
//! was not modified after the marker was written (it was not edited
//! since), and either its new bytes hash to the recorded hash or, for a
//! source page, what it is rendered from has the recorded fingerprint
//! (then it is not even rendered). The marker holds no times, so that the
//! same inputs still give byte-identical reports. Anything unreadable
//! reads as "nothing recorded": the file is then written.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::time::SystemTime;

/// The marker's first line. Markers with another one (`covdata html
/// report`, all a version-0 marker held, then version 1's list without
/// fingerprints) record nothing, so their files are written again.
pub const FIRST_LINE: &str = "covdata html report 2";

/// What the marker records of one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// XXH3-128 of the file's bytes.
    pub hash: u128,
    /// Its length in bytes.
    pub len: u64,
    /// For a source page, the fingerprint of what it was rendered from
    /// (`page::fingerprint`).
    pub inputs: Option<u128>,
}

impl Entry {
    /// The entry of `bytes`.
    pub fn of(bytes: &[u8]) -> Entry {
        Entry {
            hash: xxhash_rust::xxh3::xxh3_128(bytes),
            len: bytes.len() as u64,
            inputs: None,
        }
    }

    /// The entry of `bytes` rendered from inputs with fingerprint `inputs`.
    pub fn rendered(bytes: &[u8], inputs: u128) -> Entry {
        Entry {
            inputs: Some(inputs),
            ..Entry::of(bytes)
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
                let mut fields = line.splitn(4, ' ');
                let hash = parse_hash(fields.next()?)?;
                let len = fields.next()?.parse().ok()?;
                let inputs = match fields.next()? {
                    "-" => None,
                    h => Some(parse_hash(h)?),
                };
                let path = fields.next().filter(|p| is_plain_relative(p))?;
                Some((path.to_string(), Entry { hash, len, inputs }))
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
        use std::fmt::Write as _;
        let mut out = String::with_capacity(64 + 160 * self.entries.len());
        out.push_str(FIRST_LINE);
        out.push('\n');
        for (path, e) in &self.entries {
            let _ = write!(out, "{:032x} {} ", e.hash, e.len);
            match e.inputs {
                Some(h) => {
                    let _ = write!(out, "{h:032x}");
                }
                None => out.push('-'),
            }
            let _ = writeln!(out, " {path}");
        }
        out
    }

    /// The entry of `path`.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Whether the file this manifest recorded at `rel` has `entry`'s
    /// bytes and is still on disk at `path` as written (see
    /// [`Entry::is_on_disk`]).
    pub fn unchanged(&self, rel: &str, entry: &Entry, path: &Path) -> bool {
        self.get(rel)
            .is_some_and(|e| (e.hash, e.len) == (entry.hash, entry.len))
            && entry.is_on_disk(path, self.marked)
    }

    /// The entry recorded at `rel` when it was rendered from inputs with
    /// fingerprint `inputs` and is still on disk at `path` as written.
    pub fn rendered_from(&self, rel: &str, inputs: u128, path: &Path) -> Option<Entry> {
        self.get(rel)
            .filter(|e| e.inputs == Some(inputs) && e.is_on_disk(path, self.marked))
            .copied()
    }

    /// Records `path`.
    pub fn insert(&mut self, path: &str, entry: Entry) {
        self.entries.insert(path.to_string(), entry);
    }
}

/// 32 hex digits, as [`Manifest::encode`] writes a hash.
fn parse_hash(text: &str) -> Option<u128> {
    (text.len() == 32)
        .then(|| u128::from_str_radix(text, 16).ok())
        .flatten()
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
                inputs: None,
            },
        );
        m.insert(
            "files/a b.rs.html",
            Entry {
                hash: 1,
                len: 0,
                inputs: Some(u128::MAX - 1),
            },
        );
        let text = m.encode();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], FIRST_LINE);
        assert_eq!(
            lines[1],
            "00000000000000000000000000000001 0 fffffffffffffffffffffffffffffffe files/a b.rs.html"
        );
        assert_eq!(lines[2], "ffffffffffffffffffffffffffffffff 3 - index.html");
        assert_eq!(Manifest::parse(&text), m);
    }

    #[test]
    fn an_old_or_damaged_marker_records_nothing_it_cannot_read() {
        assert_eq!(
            Manifest::parse("covdata html report\n"),
            Manifest::default()
        );
        let h = "00000000000000000000000000000002";
        assert_eq!(
            Manifest::parse(&format!("covdata html report\n{h} 5 files/v1.html\n")),
            Manifest::default(),
            "version 1"
        );
        assert_eq!(Manifest::parse(""), Manifest::default());
        assert_eq!(
            Manifest::parse(&format!("something else\n{h} 0 - x\n")),
            Manifest::default()
        );
        let text = format!(
            "{FIRST_LINE}\n\
             zz 1 - bad-hash\n\
             2 1 - short-hash\n\
             {h} x - bad-len\n\
             {h} 1 zz bad-inputs\n\
             {h} 1 - ../escape\n\
             {h} 1 - /abs\n\
             {h} 1 - a//b\n\
             {h} 1 -\n\
             {h} 1 files/no-inputs.html\n\
             {h} 5 - files/ok.html\n\
             {h} 6 {h} files/page.html\n"
        );
        let m = Manifest::parse(&text);
        assert_eq!(m.entries.len(), 2, "{m:?}");
        assert_eq!(m.get("files/ok.html").unwrap().len, 5);
        assert_eq!(m.get("files/page.html").unwrap().inputs, Some(2));
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
        // A page is kept by its bytes, or by what it was rendered from.
        let mut m = Manifest {
            marked,
            ..Manifest::default()
        };
        let page = Entry::rendered(b"<p>one</p>", 7);
        m.insert("page.html", page);
        assert!(m.unchanged("page.html", &e, &path), "bytes alone");
        assert_eq!(m.rendered_from("page.html", 7, &path), Some(page));
        assert_eq!(m.rendered_from("page.html", 8, &path), None, "other inputs");
        assert_eq!(m.rendered_from("other.html", 7, &path), None);
        // Edited on disk after the marker (same length).
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "<p>ONE</p>").unwrap();
        assert!(!e.is_on_disk(&path, marked));
        assert_eq!(m.rendered_from("page.html", 7, &path), None, "edited");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
