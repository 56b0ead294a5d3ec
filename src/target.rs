//! Which cargo target a compilation is, from what cargo tells rustc and
//! the wrapper: `--test`, `--crate-type`, the crate root, `--extern
//! proc_macro`, and cargo's environment (`CARGO_TARGET_TMPDIR` is set only
//! for integration tests and benchmarks, `CARGO_MANIFEST_DIR` locates
//! `examples/` and `benches/`, `CARGO_PKG_NAME` names the package).
//! covwrap records it in each linked binary's slot, and covdata leaves
//! test, bench and example code out of reports by it (docs/COVDATA.md).

use std::path::{Component, Path, PathBuf};

use covwrap_rt::format::defs::{ident_keys, target_kinds};

use crate::rustc_args::RustcArgs;

/// What cargo's environment says about a compilation.
pub struct CargoEnv {
    /// `CARGO_MANIFEST_DIR`.
    pub manifest_dir: Option<PathBuf>,
    /// rustc's working directory (cargo gives roots relative to it).
    pub cwd: Option<PathBuf>,
    /// `CARGO_TARGET_TMPDIR` is set: an integration test or benchmark.
    pub integration: bool,
}

impl CargoEnv {
    /// This process's environment.
    pub fn current() -> CargoEnv {
        CargoEnv {
            manifest_dir: std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
            cwd: std::env::current_dir().ok(),
            integration: std::env::var_os("CARGO_TARGET_TMPDIR").is_some(),
        }
    }

    /// The first directory of `root` below the manifest directory
    /// (`examples`, `benches`, `src`, ...); `None` for a root directly in it.
    fn first_dir(&self, root: &Path) -> Option<String> {
        let abs = match &self.cwd {
            Some(cwd) if root.is_relative() => cwd.join(root),
            _ => root.to_path_buf(),
        };
        let rel = match &self.manifest_dir {
            Some(m) => abs.strip_prefix(m).unwrap_or(&abs),
            None => root,
        };
        let mut parts = rel.components();
        let first = parts.next()?;
        parts.next()?;
        match first {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        }
    }
}

/// The kind of target `args` compiles (a `target_kinds` value).
pub fn kind(args: &RustcArgs, env: &CargoEnv) -> &'static str {
    let first_dir = args.source().and_then(|root| env.first_dir(root));
    match first_dir.as_deref() {
        Some("examples") => return target_kinds::EXAMPLE,
        Some("benches") if env.integration => return target_kinds::BENCH,
        _ => {}
    }
    if env.integration {
        target_kinds::TEST
    } else if args.test && args.extern_proc_macro {
        target_kinds::PROC_MACRO_TEST
    } else if args.test {
        target_kinds::UNIT_TEST
    } else if args.is_bin() {
        target_kinds::BIN
    } else {
        target_kinds::LIB
    }
}

/// The `target-*` ident pairs for a linked output of `args`.
pub fn describe(args: &RustcArgs) -> Vec<(String, String)> {
    let kind = kind(args, &CargoEnv::current());
    let mut out = vec![(ident_keys::TARGET_KIND.to_string(), kind.to_string())];
    if let Some(name) = &args.crate_name {
        out.push((ident_keys::TARGET_CRATE.to_string(), name.clone()));
    }
    if let Some(pkg) = std::env::var_os("CARGO_PKG_NAME") {
        out.push((
            ident_keys::TARGET_PACKAGE.to_string(),
            pkg.to_string_lossy().into_owned(),
        ));
    }
    if let Some(root) = args.source() {
        out.push((
            ident_keys::TARGET_ROOT.to_string(),
            root.to_string_lossy().into_owned(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> RustcArgs {
        RustcArgs::parse(line.split_whitespace().map(str::to_string).collect())
    }

    fn env(integration: bool) -> CargoEnv {
        CargoEnv {
            manifest_dir: Some(PathBuf::from("/w/pkg")),
            cwd: Some(PathBuf::from("/w")),
            integration,
        }
    }

    #[test]
    fn kinds_from_cargo_invocations() {
        let k = |line: &str, integration| kind(&args(line), &env(integration));
        assert_eq!(
            k("--crate-name app pkg/src/main.rs --crate-type bin", false),
            "bin"
        );
        assert_eq!(
            k("--crate-name app pkg/src/main.rs --test", false),
            "unit-test"
        );
        assert_eq!(
            k("--crate-name lib1 pkg/src/lib.rs --test", false),
            "unit-test"
        );
        assert_eq!(k("--crate-name cli pkg/tests/cli.rs --test", true), "test");
        assert_eq!(k("--crate-name b pkg/benches/b.rs --test", true), "bench");
        assert_eq!(
            k("--crate-name b pkg/benches/b.rs --crate-type bin", true),
            "bench"
        );
        assert_eq!(
            k(
                "--crate-name demo pkg/examples/demo.rs --crate-type bin",
                false
            ),
            "example"
        );
        assert_eq!(
            k(
                "--crate-name demo /w/pkg/examples/demo/main.rs --test",
                false
            ),
            "example"
        );
        assert_eq!(
            k(
                "--crate-name m pkg/src/lib.rs --test --extern proc_macro",
                false
            ),
            "proc-macro-test"
        );
        assert_eq!(
            k("--crate-name c pkg/src/lib.rs --crate-type cdylib", false),
            "lib"
        );
        // A package whose manifest sits in the workspace root.
        let root_pkg = CargoEnv {
            manifest_dir: Some(PathBuf::from("/w")),
            ..env(false)
        };
        assert_eq!(
            kind(
                &args("--crate-name x examples/x.rs --crate-type bin"),
                &root_pkg
            ),
            "example"
        );
        assert_eq!(
            kind(&args("--crate-name x main.rs --crate-type bin"), &root_pkg),
            "bin"
        );
    }
}
