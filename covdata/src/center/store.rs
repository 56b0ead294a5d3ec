//! The center's store: the registry and the collected counters, in memory
//! and, with `--store=DIR`, on disk:
//!
//! ```text
//! DIR/registry.json   the registry (agents, next id)
//! DIR/cov/            a COVDIR: covmeta.<H> per binary, one counter file per agent
//! ```
//!
//! Every file is written through a temporary file and a rename, on one
//! writer thread in the order of the changes, so readers of DIR/cov never
//! see a partial file and a later snapshot never lands under an earlier
//! one. Durable writes (meta files, final counters, the registry) are
//! synced; a live snapshot is only renamed into place.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;

use covwrap_rt::format::dirfiles::write_new_file;

use super::registry::Registry;
use crate::source::MemDir;

/// Where the store lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreSpec {
    /// `--store=DIR`.
    Dir(PathBuf),
    /// `--store=memory`.
    Memory,
}

impl StoreSpec {
    /// Parses `--store`'s value.
    pub fn parse(s: &str) -> StoreSpec {
        if s == "memory" {
            StoreSpec::Memory
        } else {
            StoreSpec::Dir(PathBuf::from(s))
        }
    }
}

enum Job {
    Write {
        path: PathBuf,
        bytes: Arc<[u8]>,
        sync: bool,
    },
    Remove(PathBuf),
    /// Answered once every earlier job is done.
    Flush(mpsc::Sender<()>),
}

/// The registry and the collected files.
pub struct Store {
    dir: Option<PathBuf>,
    /// The agents.
    pub registry: Registry,
    /// The files of `DIR/cov` (or of the memory store).
    pub cov: MemDir,
    writer: Option<mpsc::Sender<Job>>,
    /// The registry changed since it was last written.
    dirty: bool,
}

const REGISTRY: &str = "registry.json";

impl Store {
    /// Opens (or creates) the store; a disk store's files are read back.
    pub fn open(spec: &StoreSpec) -> Result<Store, String> {
        let StoreSpec::Dir(dir) = spec else {
            return Ok(Store {
                dir: None,
                registry: Registry {
                    next_id: 1,
                    ..Registry::default()
                },
                cov: MemDir::new("memory"),
                writer: None,
                dirty: false,
            });
        };
        let cov_dir = dir.join("cov");
        std::fs::create_dir_all(&cov_dir).map_err(|e| format!("{}: {e}", cov_dir.display()))?;
        let reg_path = dir.join(REGISTRY);
        let registry = match std::fs::read(&reg_path) {
            Ok(bytes) => serde_json::from_slice::<Registry>(&bytes)
                .map_err(|e| format!("{}: not a center registry: {e}", reg_path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Registry {
                next_id: 1,
                ..Registry::default()
            },
            Err(e) => return Err(format!("{}: {e}", reg_path.display())),
        };
        let cov = MemDir::read_dir(&cov_dir).map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("covdata-store".into())
            .spawn(move || write_jobs(rx))
            .map_err(|e| format!("cannot start the store writer: {e}"))?;
        Ok(Store {
            dir: Some(dir.clone()),
            registry,
            cov,
            writer: Some(tx),
            dirty: false,
        })
    }

    fn send(&self, job: Job) {
        if let Some(w) = &self.writer {
            let _ = w.send(job);
        }
    }

    /// Adds or replaces `cov/<name>`; `durable` syncs it.
    pub fn put(&mut self, name: &str, bytes: Arc<[u8]>, durable: bool) {
        self.cov.insert(name, bytes.clone());
        if let Some(dir) = &self.dir {
            self.send(Job::Write {
                path: dir.join("cov").join(name),
                bytes,
                sync: durable,
            });
        }
    }

    /// Removes `cov/<name>`.
    pub fn remove(&mut self, name: &str) {
        if self.cov.remove(name) {
            if let Some(dir) = &self.dir {
                self.send(Job::Remove(dir.join("cov").join(name)));
            }
        }
    }

    /// Removes every file of `cov/` and every agent (the next id stays).
    pub fn wipe(&mut self) {
        let names: Vec<String> = self.cov.files().map(|(n, _)| n.to_string()).collect();
        for n in names {
            self.remove(&n);
        }
        self.registry.agents.clear();
        self.save_registry();
    }

    /// Notes a registry change that may wait for [`Store::save_if_dirty`]
    /// (registrations: a thousand agents registering at once must not
    /// write the registry a thousand times).
    pub fn registry_changed(&mut self) {
        self.dirty = true;
    }

    /// Writes the registry if it changed since it was last written.
    pub fn save_if_dirty(&mut self) {
        if self.dirty {
            self.save_registry();
        }
    }

    /// Writes `registry.json` (durably), now.
    pub fn save_registry(&mut self) {
        self.dirty = false;
        if let Some(dir) = &self.dir {
            let bytes = serde_json::to_vec_pretty(&self.registry).expect("registry serializes");
            self.send(Job::Write {
                path: dir.join(REGISTRY),
                bytes: bytes.into(),
                sync: true,
            });
        }
    }

    /// A receiver that gets `()` once every change so far is on disk.
    pub fn flush(&self) -> Option<mpsc::Receiver<()>> {
        let w = self.writer.as_ref()?;
        let (tx, rx) = mpsc::channel();
        w.send(Job::Flush(tx)).ok()?;
        Some(rx)
    }
}

fn write_jobs(rx: mpsc::Receiver<Job>) {
    for job in rx {
        match job {
            Job::Write { path, bytes, sync } => {
                if let Err(e) = write_file(&path, &bytes, sync) {
                    eprintln!("covdata serve: warning: {}: {e}", path.display());
                }
            }
            Job::Remove(path) => match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => eprintln!("covdata serve: warning: {}: {e}", path.display()),
            },
            Job::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

fn write_file(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    if sync {
        return crate::output::write_bytes(path, bytes)
            .map_err(|e| std::io::Error::other(e.to_string()));
    }
    // The store is a COVDIR: its files follow the COVDIR rules (exclusive
    // temp names, symlinks refused), without the fsync of `sync`.
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    write_new_file(dir, &name, bytes, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disk_store_reads_back_what_it_wrote() {
        let dir = std::env::temp_dir().join(format!("covdata-store-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spec = StoreSpec::Dir(dir.clone());
        let meta = covwrap_rt::format::names::meta_file_name(&[0xab; 16]);
        {
            let mut s = Store::open(&spec).unwrap();
            s.registry.next_id = 9;
            s.put(&meta, Arc::from(&b"m"[..]), true);
            s.put("x", Arc::from(&b"1"[..]), false);
            s.put("x", Arc::from(&b"2"[..]), false);
            s.put("gone", Arc::from(&b"g"[..]), false);
            s.remove("gone");
            s.save_registry();
            s.flush().unwrap().recv().unwrap();
        }
        let s = Store::open(&spec).unwrap();
        assert_eq!(s.registry.next_id, 9);
        // Only covdata's file names are read back into cov.
        assert_eq!(&**s.cov.get(&meta).unwrap(), b"m");
        assert!(s.cov.get("x").is_none());
        assert_eq!(std::fs::read(dir.join("cov/x")).unwrap(), b"2");
        assert!(!dir.join("cov/gone").exists());
        std::fs::write(dir.join(REGISTRY), "{").unwrap();
        assert!(Store::open(&spec)
            .err()
            .unwrap()
            .contains("not a center registry"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
