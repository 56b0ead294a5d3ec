//! The crate-root mirror: how covwrap adds one line to a crate without
//! touching the user's files.
//!
//! rustc resolves `mod foo;`, `include!`, `include_str!` and `#[path]`
//! relative to the directory of the file as it was named, without resolving
//! symlinks. So covwrap rebuilds the directories from a base down to the
//! crate root inside a private mirror directory: at each level every entry
//! is a symlink to the real one, except the next directory on the way down,
//! and the crate root itself is a copy with the extra line appended (at the
//! end, so inner attributes stay first and line numbers do not move).
//! `--remap-path-prefix` maps the mirror back, so `file!()`, panics, debug
//! info and the coverage mapping name the real files.
//!
//! The base is rustc's working directory when cargo passes a relative path
//! (workspace members: the workspace root, so `../README.md` and the like
//! resolve anywhere in the workspace), else the package's manifest
//! directory.

use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Component, Path, PathBuf};

/// A prepared mirror for one compilation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirror {
    /// The crate root to give rustc instead of the real one.
    pub root: PathBuf,
    /// Prefix of every path rustc sees through the mirror...
    pub prefix: String,
    /// ...and what it stands for in the user's terms.
    pub replacement: String,
}

impl Mirror {
    /// The `--remap-path-prefix` argument value.
    pub fn remap_arg(&self) -> String {
        format!("{}={}", self.prefix, self.replacement)
    }

    /// Builds the mirror of `source` (as given to rustc, relative to `cwd`
    /// or absolute) in `dir` (wiped first), with `line` appended to the root.
    pub fn create(
        source: &Path,
        cwd: &Path,
        manifest_dir: Option<&Path>,
        dir: &Path,
        line: &str,
    ) -> io::Result<Mirror> {
        let dir_str = dir.to_str().filter(|s| !s.contains('=')).ok_or_else(|| {
            io::Error::other(format!(
                "unusable mirror directory {} (not UTF-8 or contains '=')",
                dir.display()
            ))
        })?;
        let plain_relative = source.is_relative()
            && source
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        let (base, rel, mirror_base, replacement) = if plain_relative {
            (
                cwd.to_path_buf(),
                source.to_path_buf(),
                dir.to_path_buf(),
                "",
            )
        } else {
            let abs = normalize(&cwd.join(source));
            let base = manifest_dir
                .map(|m| normalize(&cwd.join(m)))
                .filter(|m| abs.starts_with(m))
                .or_else(|| abs.parent().map(Path::to_path_buf))
                .ok_or_else(|| io::Error::other("crate root has no parent directory"))?;
            let rel = abs
                .strip_prefix(&base)
                .map_err(io::Error::other)?
                .to_path_buf();
            let mirror_base = dir.join(base.strip_prefix("/").unwrap_or(&base));
            (base, rel, mirror_base, "/")
        };
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        fs::create_dir_all(&mirror_base)?;
        let parts: Vec<&std::ffi::OsStr> = rel.iter().collect();
        let (file, dirs) = parts
            .split_last()
            .ok_or_else(|| io::Error::other("empty crate root path"))?;
        let (mut real, mut mirror) = (base, mirror_base);
        for step in dirs {
            link_siblings(&real, &mirror, step)?;
            real.push(step);
            mirror.push(step);
            fs::create_dir(&mirror)?;
        }
        link_siblings(&real, &mirror, file)?;
        let mut text = fs::read(real.join(file))?;
        text.extend_from_slice(format!("\n{line}\n").as_bytes());
        mirror.push(file);
        fs::write(&mirror, text)?;
        // rustc strips a remapped prefix by path components (`M/x` leaves
        // `x`), so relative roots map back to "" + x, absolute ones to "/" + x.
        Ok(Mirror {
            root: mirror,
            prefix: format!("{dir_str}/"),
            replacement: replacement.to_string(),
        })
    }

    #[cfg(test)]
    /// Maps a path rustc reported through the mirror back to the user's.
    #[cfg(test)]
    pub fn unmap(&self, path: &str) -> String {
        match path.strip_prefix(&self.prefix) {
            Some(rest) => format!("{}{rest}", self.replacement),
            None => path.to_string(),
        }
    }
}

/// Symlinks every entry of `real` into `mirror`, except `skip`.
fn link_siblings(real: &Path, mirror: &Path, skip: &std::ffi::OsStr) -> io::Result<()> {
    for entry in fs::read_dir(real)? {
        let name = entry?.file_name();
        if name != skip {
            symlink(real.join(&name), mirror.join(&name))?;
        }
    }
    Ok(())
}

/// Lexically removes `.` and `x/..` (no symlink resolution, like rustc).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("covwrap-mirror-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn relative_root_mirrors_from_the_working_directory() {
        let ws = scratch("rel");
        fs::create_dir_all(ws.join("app/src/sub")).unwrap();
        fs::write(ws.join("README.md"), "readme").unwrap();
        fs::write(ws.join("app/src/main.rs"), "fn main() {}").unwrap();
        fs::write(ws.join("app/src/util.rs"), "").unwrap();
        let dir = ws.join("target/m/x");
        let m = Mirror::create(
            Path::new("app/src/main.rs"),
            &ws,
            None,
            &dir,
            "extern crate z as _;",
        )
        .unwrap();
        assert_eq!(m.root, dir.join("app/src/main.rs"));
        assert_eq!(
            fs::read_to_string(&m.root).unwrap(),
            "fn main() {}\nextern crate z as _;\n"
        );
        assert_eq!(
            fs::read_to_string(dir.join("app/src/../../README.md")).unwrap(),
            "readme"
        );
        assert!(dir.join("app/src/util.rs").exists() && dir.join("app/src/sub").is_dir());
        assert_eq!(
            m.unmap(&format!("{}/app/src/util.rs", dir.display())),
            "app/src/util.rs"
        );
        assert_eq!(m.remap_arg(), format!("{}/=", dir.display()));
        // Recreating wipes the previous mirror (entries may have changed).
        fs::remove_file(ws.join("app/src/util.rs")).unwrap();
        Mirror::create(Path::new("app/src/main.rs"), &ws, None, &dir, "x").unwrap();
        assert!(!dir.join("app/src/util.rs").exists());
        fs::remove_dir_all(ws).unwrap();
    }

    #[test]
    fn absolute_root_mirrors_from_the_manifest_dir() {
        let base = scratch("abs");
        let pkg = base.join("reg/foo-1.0");
        fs::create_dir_all(pkg.join("src")).unwrap();
        fs::write(pkg.join("src/lib.rs"), "//! doc").unwrap();
        fs::write(pkg.join("build.rs"), "").unwrap();
        let dir = base.join("m");
        let m = Mirror::create(
            &pkg.join("src/lib.rs"),
            Path::new("/"),
            Some(&pkg),
            &dir,
            "x",
        )
        .unwrap();
        let mirrored_pkg = dir.join(pkg.strip_prefix("/").unwrap());
        assert_eq!(m.root, mirrored_pkg.join("src/lib.rs"));
        assert!(mirrored_pkg.join("build.rs").exists());
        assert_eq!(
            m.unmap(m.root.to_str().unwrap()),
            pkg.join("src/lib.rs").to_str().unwrap()
        );
        // rustc strips the prefix by components: the replacement puts the
        // root back.
        assert_eq!(m.remap_arg(), format!("{}/=/", dir.display()));
        fs::remove_dir_all(base).unwrap();
    }
}
