//! File output. A regular file is written atomically: a temporary file in
//! the destination's directory, then a rename over it, so readers never see
//! a partial file. Anything else (`/dev/null`, `/dev/stdout`, a FIFO) is
//! written in place: renaming over it would replace the device with a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use covwrap_rt::format::defs::TEMP_FILE_PREFIX;

use crate::error::{Error, Result};

/// Writes `path` with what `fill` writes: atomically when it is (or will
/// be) a regular file, through symlinks to the file they name.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let target = match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return write_in_place(path, fill),
        Ok(_) => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        Err(_) => path.to_path_buf(),
    };
    let tmp = temp_name(&target);
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, &e)
    })
}

/// Writes `bytes` to `path`, as [`write_atomic`] does.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

fn write_in_place(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    (|| {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        w.flush()
    })()
    .map_err(|e| Error::io(path, &e))
}

/// `.covtmp.<name>.<pid>` next to `path`: covdata's readers, like covwrap's
/// runtime, ignore such names.
fn temp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!("{TEMP_FILE_PREFIX}{name}.{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_written_in_place_not_replaced() {
        write_bytes(Path::new("/dev/null"), b"report").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(!meta.is_file(), "/dev/null must stay a device");
    }

    #[test]
    fn files_are_replaced_atomically_through_symlinks() {
        let dir = std::env::temp_dir().join(format!("covdata-output-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let real = dir.join("real.txt");
        std::fs::write(&real, "old").unwrap();
        let link = dir.join("link.txt");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_bytes(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        write_bytes(&dir.join("fresh.txt"), b"x").unwrap();
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with(TEMP_FILE_PREFIX)),
            "{names:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
