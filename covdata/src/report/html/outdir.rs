//! The report directory, written atomically: every page goes into a fresh
//! directory next to the target, which is renamed into place at the end.
//! An existing report is replaced (moved aside, the new one renamed in,
//! the old one removed); an existing directory that is not a covdata
//! report (no marker file) and not empty is never touched, so a mistyped
//! `-o` cannot delete a source tree.
//!
//! A file whose bytes are those the report being replaced recorded for it,
//! or a page rendered from inputs with the fingerprint it recorded (the
//! `manifest` module), is hard-linked from there instead of written
//! again: the old report stays whole until the rename, and removing it
//! then frees only what changed.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::manifest::{Entry, Manifest};

use covwrap_rt::format::defs::TEMP_FILE_PREFIX;

use crate::error::{Error, ErrorKind, Result};

/// The file that marks a directory as a covdata HTML report.
pub const MARKER: &str = ".covdata-html";

/// A report directory being written.
pub struct Staging {
    target: PathBuf,
    tmp: PathBuf,
    /// Where the report being replaced is moved while the new one goes in.
    old: PathBuf,
    /// What the report being replaced recorded of its files, and when.
    previous: Manifest,
    /// What [`Staging::put`] wrote or kept.
    written: Mutex<Manifest>,
    done: bool,
}

impl Staging {
    /// Checks `target` and creates the staging directory beside it (and
    /// the target's parent directories when missing).
    pub fn new(target: &Path) -> Result<Staging> {
        let target = match std::fs::symlink_metadata(target) {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::canonicalize(target).map_err(|e| Error::io(target, &e))?
            }
            _ => target.to_path_buf(),
        };
        match std::fs::metadata(&target) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::new(
                    ErrorKind::Usage,
                    "exists and is not a directory; the HTML report is a directory",
                )
                .at(&target))
            }
            Ok(_) if !is_replaceable(&target)? => {
                return Err(Error::new(
                    ErrorKind::Usage,
                    format!("is a directory that is not empty and holds no {MARKER}: not a covdata HTML report, not replaced (remove it or choose another -o)"),
                )
                .at(&target))
            }
            _ => {}
        }
        let name = target
            .file_name()
            .ok_or_else(|| Error::new(ErrorKind::Usage, "names no directory").at(&target))?
            .to_string_lossy()
            .into_owned();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, &e))?;
        let pid = std::process::id();
        let tmp = parent.join(format!("{TEMP_FILE_PREFIX}{name}.{pid}"));
        let old = parent.join(format!("{TEMP_FILE_PREFIX}{name}.{pid}.old"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, &e))?;
        }
        std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, &e))?;
        // Only a report's marker is read (an empty directory has none).
        let previous = super::manifest::read(&target.join(MARKER));
        Ok(Staging {
            target,
            tmp,
            old,
            previous,
            written: Mutex::new(Manifest::default()),
            done: false,
        })
    }

    /// The directory to write the pages into.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// Puts `bytes` at `rel` (a `/`-separated path under the staging
    /// directory, whose parent exists): a hard link to the report being
    /// replaced when it recorded these bytes there and the file is
    /// unchanged, else a new file. Either way the marker records it.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.put_entry(rel, bytes, Entry::of(bytes))
    }

    /// [`Staging::put`] of a page rendered from inputs with fingerprint
    /// `inputs`, which the marker records for [`Staging::keep_rendered`].
    pub fn put_rendered(&self, rel: &str, bytes: &[u8], inputs: u128) -> Result<()> {
        self.put_entry(rel, bytes, Entry::rendered(bytes, inputs))
    }

    fn put_entry(&self, rel: &str, bytes: &[u8], entry: Entry) -> Result<()> {
        let dest = self.tmp.join(rel);
        let old = self.target.join(rel);
        let kept =
            self.previous.unchanged(rel, &entry, &old) && std::fs::hard_link(&old, &dest).is_ok();
        if !kept {
            std::fs::write(&dest, bytes).map_err(|e| Error::io(&dest, &e))?;
        }
        self.record(rel, entry);
        Ok(())
    }

    /// Hard-links the page at `rel` from the report being replaced when
    /// that report rendered it from inputs with fingerprint `inputs` and
    /// it is on disk as written; false when it must be rendered.
    pub fn keep_rendered(&self, rel: &str, inputs: u128) -> bool {
        let old = self.target.join(rel);
        match self.previous.rendered_from(rel, inputs, &old) {
            Some(entry) if std::fs::hard_link(&old, self.tmp.join(rel)).is_ok() => {
                self.record(rel, entry);
                true
            }
            _ => false,
        }
    }

    fn record(&self, rel: &str, entry: Entry) {
        self.written
            .lock()
            .expect("no thread panics holding it")
            .insert(rel, entry);
    }

    /// Marks the staged report and puts it in the target's place.
    pub fn commit(mut self) -> Result<()> {
        let marker = self.tmp.join(MARKER);
        let manifest = std::mem::take(&mut self.written)
            .into_inner()
            .expect("no thread panics holding it");
        std::fs::write(&marker, manifest.encode()).map_err(|e| Error::io(&marker, &e))?;
        let old = &self.old;
        if old.exists() {
            std::fs::remove_dir_all(old).map_err(|e| Error::io(old, &e))?;
        }
        let replacing = self.target.exists();
        if replacing {
            std::fs::rename(&self.target, old).map_err(|e| Error::io(&self.target, &e))?;
        }
        if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
            if replacing {
                let _ = std::fs::rename(old, &self.target);
            }
            return Err(Error::io(&self.target, &e));
        }
        self.done = true;
        if replacing {
            std::fs::remove_dir_all(old).map_err(|e| Error::io(old, &e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// An empty directory, or one with the marker.
fn is_replaceable(dir: &Path) -> Result<bool> {
    if dir.join(MARKER).is_file() {
        return Ok(true);
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, &e))?;
    Ok(entries.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("covdata-outdir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn stage(target: &Path, page: &str) -> Result<()> {
        let s = Staging::new(target)?;
        std::fs::write(s.dir().join("index.html"), page).unwrap();
        s.commit()
    }

    #[test]
    fn creates_then_replaces_a_report() {
        let d = scratch("replace");
        let target = d.join("a/b/htmlcov");
        stage(&target, "one").unwrap();
        std::fs::write(target.join("stale.html"), "x").unwrap();
        stage(&target, "two").unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("index.html")).unwrap(),
            "two"
        );
        assert!(!target.join("stale.html").exists());
        let names: Vec<_> = std::fs::read_dir(d.join("a/b")).unwrap().collect();
        assert_eq!(names.len(), 1, "staging left behind");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn refuses_other_directories_and_files() {
        let d = scratch("refuse");
        let src = d.join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("main.rs"), "fn main() {}").unwrap();
        let e = stage(&src, "x").unwrap_err();
        assert!(e.to_string().contains("not a covdata HTML report"), "{e}");
        assert!(src.join("main.rs").exists());
        let file = d.join("file");
        std::fs::write(&file, "x").unwrap();
        let e = stage(&file, "x").unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
        let empty = d.join("empty");
        std::fs::create_dir(&empty).unwrap();
        stage(&empty, "ok").unwrap();
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(TEMP_FILE_PREFIX))
            .collect();
        assert!(names.is_empty(), "{names:?}");
        std::fs::remove_dir_all(d).unwrap();
    }
}
