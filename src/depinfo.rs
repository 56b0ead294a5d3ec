//! Finishes the dep-info file rustc wrote, before cargo reads it:
//!
//! - paths seen through the crate-root mirror are mapped back, so cargo
//!   tracks the user's real files (editing one rebuilds, as without covwrap);
//! - `COVWRAP_PKG` is declared as an environment dependency of the unit.
//!   cargo caches its `rustc -vV` query by the rustc and wrapper binaries,
//!   not by the environment, but it re-checks every unit's `# env-dep:`
//!   lines on each build: this is how a changed `COVWRAP_PKG` rebuilds every
//!   unit, registry crates included.

use std::fs;
use std::io;
use std::path::Path;

use crate::mirror::Mirror;

/// The variable whose value decides what covwrap instruments.
pub const SETTINGS_VAR: &str = "COVWRAP_PKG";

/// Rewrites `path` in place (atomically). Paths in dep-info escape spaces
/// as `\ `, so the mirror prefix is matched in that form.
pub fn finish(
    path: &Path,
    mirror: Option<&Mirror>,
    settings_value: Option<&str>,
) -> io::Result<()> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut out = match mirror {
        Some(m) => text.replace(
            &m.prefix.replace(' ', "\\ "),
            &m.replacement.replace(' ', "\\ "),
        ),
        None => text.clone(),
    };
    let env_line = match settings_value {
        Some(v) => format!("# env-dep:{SETTINGS_VAR}={}", escape_env(v)),
        None => format!("# env-dep:{SETTINGS_VAR}"),
    };
    if !out
        .lines()
        .any(|l| l.starts_with(&format!("# env-dep:{SETTINGS_VAR}")))
    {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&env_line);
        out.push('\n');
    }
    if out == text {
        return Ok(());
    }
    let temp = path.with_extension(format!("d.covwrap{}", std::process::id()));
    fs::write(&temp, out)?;
    fs::rename(&temp, path)
}

/// rustc's escaping of env-dep values, which cargo undoes.
fn escape_env(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dep-info file holding `text` in a directory of its own, removed
    /// when the value is dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn file(&self) -> std::path::PathBuf {
            self.0.join("x.d")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn scratch_file(text: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "covwrap-depinfo-{}-{}",
            std::process::id(),
            text.len()
        ));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("x.d"), text).unwrap();
        Scratch(dir)
    }

    #[test]
    fn maps_mirror_paths_back_including_escaped_spaces() {
        let scratch = scratch_file(
            "/t/deps/x.d: /my\\ t/m/app/src/main.rs /my\\ t/m/app/src/a.rs\n\n/my\\ t/m/app/src/main.rs:\n# env-dep:X=1\n",
        );
        let d = scratch.file();
        let m = Mirror {
            root: "/my t/m/app/src/main.rs".into(),
            prefix: "/my t/m/".into(),
            replacement: String::new(),
        };
        finish(&d, Some(&m), None).unwrap();
        assert_eq!(
            fs::read_to_string(&d).unwrap(),
            "/t/deps/x.d: app/src/main.rs app/src/a.rs\n\napp/src/main.rs:\n# env-dep:X=1\n# env-dep:COVWRAP_PKG\n"
        );
    }

    #[test]
    fn declares_the_settings_variable_once() {
        let scratch = scratch_file("x.d: a.rs\n\na.rs:\n");
        let d = scratch.file();
        finish(&d, None, Some("serde*,a\\b")).unwrap();
        finish(&d, None, Some("serde*,a\\b")).unwrap();
        assert_eq!(
            fs::read_to_string(&d).unwrap(),
            "x.d: a.rs\n\na.rs:\n# env-dep:COVWRAP_PKG=serde*,a\\\\b\n"
        );
    }
}
