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

    fn scratch_file(text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "covwrap-depinfo-{}-{}",
            std::process::id(),
            text.len()
        ));
        fs::create_dir_all(&dir).unwrap();
        let d = dir.join("x.d");
        fs::write(&d, text).unwrap();
        d
    }

    #[test]
    fn maps_mirror_paths_back_including_escaped_spaces() {
        let d = scratch_file(
            "/t/deps/x.d: /my\\ t/m/app/src/main.rs /my\\ t/m/app/src/a.rs\n\n/my\\ t/m/app/src/main.rs:\n# env-dep:X=1\n",
        );
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
        let d = scratch_file("x.d: a.rs\n\na.rs:\n");
        finish(&d, None, Some("serde*,a\\b")).unwrap();
        finish(&d, None, Some("serde*,a\\b")).unwrap();
        assert_eq!(
            fs::read_to_string(&d).unwrap(),
            "x.d: a.rs\n\na.rs:\n# env-dep:COVWRAP_PKG=serde*,a\\\\b\n"
        );
    }
}
