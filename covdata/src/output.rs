//! File output. A regular file is written atomically: a temporary file in
//! the destination's directory, then a rename over it, so readers never see
//! a partial file. Anything else (`/dev/null`, `/dev/stdout`, a FIFO) is
//! written in place: renaming over it would replace the device with a file.

use std::io::Write;
use std::path::Path;

#[cfg(unix)]
use covwrap_rt::format::dirfiles::{create_temp, refuse_symlink};

use crate::error::{Error, Result};

/// Writes `path` with what `fill` writes: atomically when it is (or will
/// be) a regular file, through symlinks to the file they name (the user
/// named this output). The temporary file is created as every COVDIR file
/// is (docs/FORMAT.md, shared COVDIRs): exclusively, never through a
/// symlink, under a name nobody can plant in advance.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let target = match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return write_in_place(path, fill),
        Ok(_) => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        Err(_) => path.to_path_buf(),
    };
    replace(path, &target, fill)
}

/// Writes a file of a coverage directory (`merge -o`, a pool): like
/// [`write_atomic`], but a symlink at `path` is refused with one line,
/// never followed, since the directory may be shared.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    refuse_symlink(path).map_err(|e| Error::io(path, &e))?;
    write_atomic(path, |w| w.write_all(bytes))
}

/// Temp file next to `target`, filled, synced, renamed over `target`.
fn replace(
    path: &Path,
    target: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let (file, tmp) = create_temp(dir, &name).map_err(|e| Error::io(path, &e))?;
    let result = (|| {
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, &e)
    })
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

/// Without O_NOFOLLOW: exclusive creation only.
#[cfg(not(unix))]
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(std::fs::File, std::path::PathBuf)> {
    let prefix = covwrap_rt::format::defs::TEMP_FILE_PREFIX;
    let path = dir.join(format!("{prefix}{name}.{}", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((file, path))
}

#[cfg(not(unix))]
fn refuse_symlink(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use covwrap_rt::format::defs::TEMP_FILE_PREFIX;

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
        write_atomic(&link, |w| w.write_all(b"new")).unwrap();
        let e = write_bytes(&link, b"covdir").unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
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
