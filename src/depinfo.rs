//! Rewrites the dep-info file rustc wrote for a mirrored compilation, so
//! cargo tracks the user's real files (editing one rebuilds, as without
//! covwrap) instead of the mirror.

use std::fs;
use std::io;
use std::path::Path;

use crate::mirror::Mirror;

/// Rewrites `path` in place (atomically). Paths in dep-info escape spaces
/// as `\ `, so the mirror prefix is matched in that form.
pub fn rewrite(path: &Path, mirror: &Mirror) -> io::Result<()> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let escaped_prefix = mirror.prefix.replace(' ', "\\ ");
    let escaped_replacement = mirror.replacement.replace(' ', "\\ ");
    let rewritten = text.replace(&escaped_prefix, &escaped_replacement);
    if rewritten == text {
        return Ok(());
    }
    let temp = path.with_extension(format!("d.covwrap{}", std::process::id()));
    fs::write(&temp, rewritten)?;
    fs::rename(&temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_mirror_paths_back_including_escaped_spaces() {
        let dir = std::env::temp_dir().join(format!("covwrap-depinfo-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let d = dir.join("x.d");
        fs::write(
            &d,
            "/t/deps/x.d: /my\\ t/m/app/src/main.rs /my\\ t/m/app/src/a.rs\n\n/my\\ t/m/app/src/main.rs:\n# env-dep:X=1\n",
        )
        .unwrap();
        let m = Mirror {
            root: "/my t/m/app/src/main.rs".into(),
            prefix: "/my t/m/".into(),
            replacement: String::new(),
        };
        rewrite(&d, &m).unwrap();
        assert_eq!(
            fs::read_to_string(&d).unwrap(),
            "/t/deps/x.d: app/src/main.rs app/src/a.rs\n\napp/src/main.rs:\n# env-dep:X=1\n"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
