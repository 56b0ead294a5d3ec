//! covwrap: a RUSTC_WRAPPER that builds coverage-instrumented programs.
//!
//! `RUSTC_WRAPPER=covwrap cargo build` makes cargo run `covwrap <rustc>
//! <args>` for every rustc invocation. covwrap adds `-C instrument-coverage`
//! and the runtime to the user's crates (see docs/ARCHITECTURE.md) and
//! passes everything else through unchanged.

mod depinfo;
mod env;
mod finalize;
mod mirror;
mod policy;
mod runtime;
mod rustc_args;
mod settings;
mod target;
mod toolchain;
mod wrapper;

use std::process::ExitCode;

const USAGE: &str = "\
covwrap: program coverage for Rust

usage:
    cargo covwrap test                       (cargo users: build and run with coverage, then
                                             report; `cargo covwrap --help`)
    RUSTC_WRAPPER=covwrap cargo build        (any cargo command: test, run, install, nextest)
    COVDIR=/tmp/cov ./target/debug/app ...   (each run writes coverage files into COVDIR)
    covdata percent -i=/tmp/cov              (reports: `covdata help` lists the commands,
                                             `covdata help <command>` shows one)
    eval \"$(covwrap env)\"                    (export RUSTC_WRAPPER=covwrap and COVDIR=<target
                                             dir>/covwrap/cov, the directory cargo covwrap uses,
                                             for scripts that run cargo themselves;
                                             `covwrap env --help`)

build-time environment:
    COVWRAP_PKG=GLOBS          comma-separated crate-name globs to instrument besides local
                               path crates (e.g. `serde*`); `!GLOB` excludes (e.g. `!bench_*`)
    COVWRAP_RUSTC_WRAPPER=W    run W (e.g. sccache) as the wrapper covwrap itself wraps
    COVWRAP_CACHE_DIR=DIR      where compiled runtimes are cached (default ~/.cache/covwrap)
    COVWRAP_LOG=1              say, per crate, what covwrap did and why

run-time environment (instrumented programs):
    COVDIR=DIR                 directory for covmeta/covcounters files
    COVWRAP_LABEL=TEXT         recorded with the run (e.g. a test name)
    COVWRAP_MERGE=1            fold each run into one pool file per binary under a file
                               lock, instead of one file per process
    COVWRAP_QUIET=1            no warning when COVDIR is unset
    COVWRAP_CENTER=URL         run an agent that dials out to a coverage center
                               (covdata serve), e.g. http://127.0.0.1:7777
    COVWRAP_SERVICE=NAME       the agent's service name (default: the binary's name)
    COVWRAP_CENTER_TOKEN=T     the token of a center started with --token
    COVWRAP_CONTINUOUS=1       count into a mapped file in COVDIR: runs killed by SIGKILL or
                               the OOM killer, crashed or exec'd keep their counts
";

fn main() -> ExitCode {
    let args: Vec<String> = match std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect()
    {
        Ok(a) => a,
        Err(bad) => {
            eprintln!("covwrap: error: argument is not valid UTF-8: {bad:?}");
            return ExitCode::from(1);
        }
    };
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("env") => match env::run(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("covwrap: {e:#}");
                ExitCode::from(1)
            }
        },
        Some("-V" | "--version") => {
            println!("covwrap {}", covwrap_rt::VERSION);
            ExitCode::SUCCESS
        }
        _ => match wrapper::run(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("covwrap: error: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

/// A short suffix that differs between calls and processes, for temp names.
pub fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::USAGE;

    /// The names in the README's "At build time" and "At run time" tables.
    fn readme_variables() -> Vec<&'static str> {
        let mut in_table = false;
        let mut names = Vec::new();
        for line in include_str!("../README.md").lines() {
            if line.starts_with("At build time") || line.starts_with("At run time") {
                in_table = true;
            } else if line.starts_with("## ") {
                in_table = false;
            } else if let Some(row) = line.strip_prefix("| `").filter(|_| in_table) {
                names.push(row.split(['=', '`']).next().unwrap_or(row));
            }
        }
        names
    }

    #[test]
    fn help_lists_every_variable_the_readme_lists() {
        let names = readme_variables();
        assert!(names.contains(&"COVWRAP_MERGE"), "{names:?}");
        assert!(names.len() >= 9, "{names:?}");
        for name in names {
            assert!(
                USAGE.contains(&format!("{name}=")),
                "covwrap --help lacks {name}"
            );
        }
        assert!(USAGE.contains("`covdata help`"));
    }
}
