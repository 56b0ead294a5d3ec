//! Which crates get `-C instrument-coverage`.

use std::path::{Path, PathBuf};

use crate::rustc_args::RustcArgs;
use crate::settings::Settings;

/// What covwrap does with one compilation, and why (for `COVWRAP_LOG`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub instrument: bool,
    pub reason: &'static str,
}

/// Build scripts and proc-macros run at build time and are never
/// instrumented. Otherwise a crate is instrumented when it is built from a
/// local path (workspace members and path dependencies) or matched by
/// `COVWRAP_PKG`, and not excluded by a `!glob` in it.
pub fn decide(args: &RustcArgs, settings: &Settings) -> Decision {
    let name = args.crate_name.as_deref().unwrap_or("");
    let no = |reason| Decision {
        instrument: false,
        reason,
    };
    let yes = |reason| Decision {
        instrument: true,
        reason,
    };
    if args.is_build_script() {
        return no("build script");
    }
    if args.is_proc_macro() {
        return no("proc-macro");
    }
    if settings.pkg.excludes(name) {
        return no("excluded by COVWRAP_PKG");
    }
    if settings.pkg.includes(name) {
        return yes("matched by COVWRAP_PKG");
    }
    // A proc-macro's own tests cannot reach its expansion code (that runs
    // inside rustc), so its coverage would read near 0% and pull totals
    // down; COVWRAP_PKG naming the crate measures it anyway.
    if args.test && args.extern_proc_macro {
        return no("proc-macro unit tests (name the crate in COVWRAP_PKG to measure them)");
    }
    if is_local(args) {
        yes("local path crate")
    } else {
        no("registry or git dependency")
    }
}

/// cargo passes `--cap-lints allow` exactly for packages that are not path
/// packages, and their sources live under `$CARGO_HOME/registry` or
/// `$CARGO_HOME/git`; either sign means "not the user's own code".
fn is_local(args: &RustcArgs) -> bool {
    if args.cap_lints_allow {
        return false;
    }
    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        return true;
    };
    !cargo_home_sources()
        .iter()
        .any(|dir| manifest_dir.starts_with(dir))
}

fn cargo_home_sources() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    match home {
        Some(h) => vec![h.join("registry"), h.join("git")],
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::PkgPatterns;

    fn settings(pkg: &str) -> Settings {
        let mut s = Settings::from_env();
        s.pkg = PkgPatterns::parse(pkg);
        s
    }

    fn args(line: &str) -> RustcArgs {
        RustcArgs::parse(line.split_whitespace().map(str::to_string).collect())
    }

    #[test]
    fn defaults() {
        let s = settings("");
        assert!(decide(&args("--crate-name app app/src/main.rs"), &s).instrument);
        assert!(!decide(&args("--crate-name itoa /r/lib.rs --cap-lints allow"), &s).instrument);
        assert!(!decide(&args("--crate-name build_script_build build.rs"), &s).instrument);
        assert!(!decide(&args("--crate-name m m.rs --crate-type proc-macro"), &s).instrument);
        let macro_tests = args("--crate-name m m/src/lib.rs --test --extern proc_macro");
        assert!(!decide(&macro_tests, &s).instrument);
        assert!(decide(&macro_tests, &settings("m")).instrument);
    }

    #[test]
    fn covwrap_pkg_adds_and_removes() {
        let s = settings("ito*,!app");
        assert!(decide(&args("--crate-name itoa /r/lib.rs --cap-lints allow"), &s).instrument);
        assert!(!decide(&args("--crate-name app app/src/main.rs"), &s).instrument);
        // Build-time crates stay excluded even when matched.
        let all = settings("*");
        assert!(!decide(&args("--crate-name m m.rs --crate-type proc-macro"), &all).instrument);
    }
}
