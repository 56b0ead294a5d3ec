//! What a rustc command line says about the crate it compiles. Only the
//! facts covwrap acts on are extracted; the arguments themselves are kept
//! verbatim and passed on.

use std::path::{Path, PathBuf};

/// Flags whose value may be the next argument (`--flag value`). Knowing them
/// is how the one positional argument, the crate root, is found.
const TAKES_VALUE: &[&str] = &[
    "-C",
    "-Z",
    "-L",
    "-l",
    "-o",
    "-A",
    "-W",
    "-D",
    "-F",
    "--cfg",
    "--check-cfg",
    "--extern",
    "--crate-name",
    "--crate-type",
    "--edition",
    "--emit",
    "--error-format",
    "--json",
    "--out-dir",
    "--target",
    "--cap-lints",
    "--remap-path-prefix",
    "--remap-path-scope",
    "--sysroot",
    "--print",
    "--explain",
    "--diagnostic-width",
    "--env-set",
    "--codegen",
    "--warn",
    "--allow",
    "--deny",
    "--forbid",
    "--force-warn",
    "--color",
    "--crate-attr",
];

/// A parsed rustc invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RustcArgs {
    /// Every argument after the rustc program, verbatim.
    pub args: Vec<String>,
    /// Index in `args` of the crate root (the one positional argument).
    pub source_index: Option<usize>,
    pub crate_name: Option<String>,
    pub crate_types: Vec<String>,
    /// `--test`: a libtest harness.
    pub test: bool,
    pub out_dir: Option<PathBuf>,
    /// `-o FILE`.
    pub output: Option<PathBuf>,
    /// `-C extra-filename=...`.
    pub extra_filename: String,
    /// `--emit` kinds, with their explicit paths where given.
    pub emit: Vec<(String, Option<PathBuf>)>,
    pub target: Option<String>,
    pub sysroot: Option<String>,
    /// `--cap-lints allow`, which cargo passes for non-path (registry, git)
    /// packages.
    pub cap_lints_allow: bool,
    /// `-L dependency=DIR` directories, in order.
    pub dependency_dirs: Vec<PathBuf>,
    /// `--print` or `--explain`: a query, not a compilation.
    pub query: bool,
    /// `--extern proc_macro`, which cargo passes to proc-macro targets
    /// (also to their `--test` harnesses, which have no `--crate-type`).
    pub extern_proc_macro: bool,
}

impl RustcArgs {
    pub fn parse(args: Vec<String>) -> RustcArgs {
        let mut out = RustcArgs::default();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            let (flag, value, consumed) = split_flag(&args, i);
            match flag {
                "--crate-name" => out.crate_name = value.map(str::to_string),
                "--crate-type" => {
                    out.crate_types
                        .extend(value.unwrap_or("").split(',').map(str::to_string));
                }
                "--test" => out.test = true,
                "--out-dir" => out.out_dir = value.map(PathBuf::from),
                "-o" => out.output = value.map(PathBuf::from),
                "--target" => out.target = value.map(str::to_string),
                "--sysroot" => out.sysroot = value.map(str::to_string),
                "--cap-lints" => out.cap_lints_allow = value == Some("allow"),
                "--print" | "--explain" => out.query = true,
                "--extern" => out.extern_proc_macro |= value == Some("proc_macro"),
                "--emit" => {
                    for kind in value.unwrap_or("").split(',') {
                        match kind.split_once('=') {
                            Some((k, path)) => {
                                out.emit.push((k.to_string(), Some(PathBuf::from(path))))
                            }
                            None => out.emit.push((kind.to_string(), None)),
                        }
                    }
                }
                "-C" | "--codegen" => {
                    if let Some(extra) = value.and_then(|v| v.strip_prefix("extra-filename=")) {
                        out.extra_filename = extra.to_string();
                    }
                }
                "-L" => {
                    if let Some(dir) = value.and_then(|v| v.strip_prefix("dependency=")) {
                        out.dependency_dirs.push(PathBuf::from(dir));
                    }
                }
                _ if (!arg.starts_with('-') || arg == "-") && out.source_index.is_none() => {
                    out.source_index = Some(i);
                }
                _ => {}
            }
            i += consumed;
        }
        out.args = args;
        out
    }

    /// The crate root as given (relative to rustc's working directory, or
    /// absolute); `None` for stdin (`-`) or no input.
    pub fn source(&self) -> Option<&Path> {
        let arg = &self.args[self.source_index?];
        (arg != "-").then(|| Path::new(arg.as_str()))
    }

    /// A real compilation of a crate from a file (not `-vV`, not a
    /// `--print` probe, not stdin).
    pub fn is_compilation(&self) -> bool {
        !self.query && self.source().is_some() && self.crate_name.is_some()
    }

    /// rustc's default when no `--crate-type` is given is `bin`.
    fn types(&self) -> Vec<&str> {
        if self.crate_types.is_empty() {
            vec!["bin"]
        } else {
            self.crate_types.iter().map(String::as_str).collect()
        }
    }

    /// An executable target (not a test harness).
    pub fn is_bin(&self) -> bool {
        self.types().contains(&"bin")
    }

    pub fn is_proc_macro(&self) -> bool {
        self.types().contains(&"proc-macro")
    }

    /// cargo names build-script crates `build_script_<target name>`.
    pub fn is_build_script(&self) -> bool {
        self.crate_name
            .as_deref()
            .is_some_and(|n| n.starts_with("build_script_"))
    }

    /// Whether rustc will produce linked code (not just metadata).
    pub fn links(&self) -> bool {
        self.emit.is_empty() || self.emit.iter().any(|(k, _)| k == "link")
    }

    /// Linked outputs that can hold the runtime's slot: executables (bins,
    /// test harnesses) and shared libraries.
    pub fn linked_outputs(&self) -> Vec<PathBuf> {
        if !self.links() {
            return Vec::new();
        }
        let name = self.crate_name.as_deref().unwrap_or("");
        let dir = self.out_dir.clone().unwrap_or_default();
        let mut outputs = Vec::new();
        if let Some(explicit) = self
            .emit
            .iter()
            .find_map(|(k, p)| (k == "link").then_some(p.clone()).flatten())
        {
            return vec![explicit];
        }
        if let Some(o) = &self.output {
            return vec![o.clone()];
        }
        if self.test || self.types().contains(&"bin") {
            outputs.push(dir.join(format!("{name}{}", self.extra_filename)));
        }
        if self.types().iter().any(|t| *t == "cdylib" || *t == "dylib") {
            outputs.push(dir.join(format!("lib{name}{}.so", self.extra_filename)));
        }
        outputs
    }

    /// The dep-info file rustc writes, if it writes one.
    pub fn dep_info_path(&self) -> Option<PathBuf> {
        let (_, explicit) = self.emit.iter().find(|(k, _)| k == "dep-info")?;
        if let Some(p) = explicit {
            return Some(p.clone());
        }
        let name = self.crate_name.as_deref()?;
        if let Some(o) = &self.output {
            return Some(o.with_extension("d"));
        }
        Some(
            self.out_dir
                .clone()
                .unwrap_or_default()
                .join(format!("{name}{}.d", self.extra_filename)),
        )
    }
}

/// Splits argument `i` into (flag, value, arguments consumed), handling
/// `--flag=value`, `--flag value`, `-Cvalue` and `-C value`.
fn split_flag(args: &[String], i: usize) -> (&str, Option<&str>, usize) {
    let arg = args[i].as_str();
    if let Some((flag, value)) = arg.split_once('=').filter(|(f, _)| f.starts_with("--")) {
        return (flag, Some(value), 1);
    }
    if TAKES_VALUE.contains(&arg) {
        return (arg, args.get(i + 1).map(String::as_str), 2);
    }
    // Short flags with the value attached: -Cfoo=bar, -Ldependency=x, -Awarnings.
    for short in ["-C", "-Z", "-L", "-l", "-o", "-A", "-W", "-D", "-F"] {
        if let Some(value) = arg.strip_prefix(short).filter(|v| !v.is_empty()) {
            return (short, Some(value), 1);
        }
    }
    (arg, None, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> RustcArgs {
        RustcArgs::parse(line.split_whitespace().map(str::to_string).collect())
    }

    #[test]
    fn cargo_bin_invocation() {
        let a = parse(
            "--crate-name app --edition=2021 app/src/main.rs --error-format=json --json=diagnostic-rendered-ansi \
             --crate-type bin --emit=dep-info,link -C embed-bitcode=no -C debuginfo=2 --check-cfg cfg(docsrs,test) \
             -C metadata=f04d -C extra-filename=-8abc --out-dir /t/debug/deps -L dependency=/t/debug/deps \
             --extern lib1=/t/debug/deps/liblib1-1.rlib",
        );
        assert_eq!(a.crate_name.as_deref(), Some("app"));
        assert_eq!(a.source(), Some(Path::new("app/src/main.rs")));
        assert!(a.is_compilation() && a.links() && !a.test && !a.is_proc_macro());
        assert_eq!(
            a.linked_outputs(),
            vec![PathBuf::from("/t/debug/deps/app-8abc")]
        );
        assert_eq!(
            a.dep_info_path(),
            Some(PathBuf::from("/t/debug/deps/app-8abc.d"))
        );
        assert_eq!(a.dependency_dirs, vec![PathBuf::from("/t/debug/deps")]);
    }

    #[test]
    fn lib_test_harness_and_registry_crates() {
        let a = parse("--crate-name lib1 lib1/src/lib.rs --test --emit=dep-info,link -C extra-filename=-9 --out-dir d");
        assert!(a.test);
        assert_eq!(a.linked_outputs(), vec![PathBuf::from("d/lib1-9")]);
        let r = parse("--crate-name itoa /r/itoa/src/lib.rs --crate-type lib --emit=dep-info,metadata,link --cap-lints allow");
        assert!(r.cap_lints_allow);
        assert!(r.linked_outputs().is_empty());
    }

    #[test]
    fn probes_and_queries_are_not_compilations() {
        assert!(!parse("- --crate-name ___ --print=file-names --crate-type bin").is_compilation());
        assert!(!parse("-vV").is_compilation());
        assert!(!parse("--print sysroot").is_compilation());
    }

    #[test]
    fn build_scripts_and_proc_macros() {
        assert!(
            parse("--crate-name build_script_build app/build.rs --crate-type bin")
                .is_build_script()
        );
        assert!(parse("--crate-name m m/src/lib.rs --crate-type proc-macro").is_proc_macro());
    }

    #[test]
    fn attached_short_values() {
        let a =
            parse("-Cextra-filename=-x --crate-name=z z.rs -Ldependency=/deps --emit=link=/out/z");
        assert_eq!(a.extra_filename, "-x");
        assert_eq!(a.crate_name.as_deref(), Some("z"));
        assert_eq!(a.dependency_dirs, vec![PathBuf::from("/deps")]);
        assert_eq!(a.linked_outputs(), vec![PathBuf::from("/out/z")]);
    }
}
