//! One wrapped rustc invocation, start to finish.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use anyhow::{bail, Context, Result};

use crate::mirror::Mirror;
use crate::rustc_args::RustcArgs;
use crate::settings::{runtime_sources_hash, Settings};
use crate::{depinfo, finalize, policy, runtime, target, toolchain};

/// The line appended to every instrumented crate root. `as _` links the
/// runtime without adding a name to the crate; lints do not fire on it.
const RUNTIME_LINE: &str = "extern crate covwrap_rt as _;";

/// Runs `args` = `<rustc> <rustc args...>` (or `<workspace wrapper> <rustc>
/// <args...>`), returning the exit code for cargo.
pub fn run(args: Vec<String>) -> Result<u8> {
    let settings = Settings::from_env();
    let (program, rest) = split_program(args);
    let rustc = PathBuf::from(program.last().context("no rustc to run")?);
    if rest == ["-vV"] {
        return answer_version(&program, &settings);
    }
    let parsed = RustcArgs::parse(rest);
    if !parsed.is_compilation() {
        return exec(&program, &parsed.args, &settings);
    }
    let decision = policy::decide(&parsed, &settings);
    let name = parsed.crate_name.clone().unwrap_or_default();
    if settings.log {
        let verb = if decision.instrument {
            "instrumenting"
        } else {
            "not instrumenting"
        };
        eprintln!("covwrap: {verb} {name} ({})", decision.reason);
    }
    if !decision.instrument {
        let status = spawn(&program, &parsed.args, &settings)?;
        finish_dep_info(&parsed, None, &settings)?;
        if status.success() {
            finalize_outputs(&parsed, &settings)?;
        }
        return Ok(exit_code(status));
    }
    if let Some(t) = parsed.target.as_deref().filter(|t| !t.contains("linux")) {
        bail!("crate {name}: target {t} is not supported; covwrap's runtime supports Linux targets only");
    }
    let runtime = runtime::ensure(&rustc, &parsed, &settings)?;
    let mirror = make_mirror(&parsed)?;
    let mut args = parsed.args.clone();
    args[parsed.source_index.context("no crate root")?] =
        mirror.root.to_string_lossy().into_owned();
    args.extend(["-C".into(), "instrument-coverage".into()]);
    // Every counter address goes through `__llvm_profile_counter_bias`, so
    // the runtime can move the counters into a mapped file at startup
    // (COVWRAP_CONTINUOUS, runtime/src/rt/dense.rs); one load per function.
    args.extend(["-C".into(), "llvm-args=-runtime-counter-relocation".into()]);
    args.push("--extern".into());
    args.push(format!("{}={}", runtime::CRATE_NAME, runtime.display()));
    args.push(format!("--remap-path-prefix={}", mirror.remap_arg()));
    let status = spawn(&program, &args, &settings)?;
    finish_dep_info(&parsed, Some(&mirror), &settings)?;
    if status.success() {
        finalize_outputs(&parsed, &settings)?;
    }
    Ok(exit_code(status))
}

/// cargo runs `$RUSTC_WRAPPER [$RUSTC_WORKSPACE_WRAPPER] $RUSTC args`: the
/// program is every leading non-flag argument up to and including rustc.
fn split_program(mut args: Vec<String>) -> (Vec<String>, Vec<String>) {
    let is_rustc = |a: &str| {
        Path::new(a)
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with("rustc"))
    };
    let take =
        if args.len() > 1 && !args[1].starts_with('-') && is_rustc(&args[1]) && !is_rustc(&args[0])
        {
            2
        } else {
            1
        };
    let rest = args.split_off(take.min(args.len()));
    (args, rest)
}

/// Answers cargo's `rustc -vV` with rustc's answer plus a line naming this
/// covwrap and its runtime, after checking that the toolchain's coverage
/// formats are ones covwrap reads. cargo hashes this answer into every
/// unit's fingerprint and artifact names, so builds with and without
/// covwrap (or with another covwrap) never share artifacts.
fn answer_version(program: &[String], settings: &Settings) -> Result<u8> {
    let out = command(program, &["-vV".to_string()], settings)
        .output()
        .with_context(|| format!("cannot run {}", program.join(" ")))?;
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        return Ok(exit_code(out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    toolchain::check_version(&text)?;
    print!("{text}");
    println!(
        "covwrap: {} runtime {}",
        covwrap_rt::VERSION,
        runtime_sources_hash()
    );
    Ok(0)
}

/// The mirror lives under the crate's output directory, one per unit, and is
/// rebuilt on each compilation (its entries follow the real directories).
fn make_mirror(args: &RustcArgs) -> Result<Mirror> {
    let cwd = std::env::current_dir().context("no current directory")?;
    let out_dir = args.out_dir.clone().unwrap_or_else(|| cwd.clone());
    let out_dir = if out_dir.is_absolute() {
        out_dir
    } else {
        cwd.join(out_dir)
    };
    let source = args.source().context("no crate root")?;
    let unit = format!(
        "{}{}{}",
        args.crate_name.as_deref().unwrap_or("crate"),
        args.extra_filename,
        if args.test { "-test" } else { "" }
    );
    let dir = out_dir.join(".covwrap-mirror").join(unit);
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    Mirror::create(source, &cwd, manifest_dir.as_deref(), &dir, RUNTIME_LINE)
        .with_context(|| format!("cannot prepare {} for instrumentation", source.display()))
}

fn finish_dep_info(args: &RustcArgs, mirror: Option<&Mirror>, settings: &Settings) -> Result<()> {
    let Some(path) = args.dep_info_path() else {
        return Ok(());
    };
    depinfo::finish(&path, mirror, settings.pkg_raw.as_deref())
        .with_context(|| format!("cannot rewrite {}", path.display()))
}

fn finalize_outputs(args: &RustcArgs, settings: &Settings) -> Result<()> {
    for output in args.linked_outputs() {
        if let Some(hash) = finalize::fill_slot(&output, target::describe(args))? {
            if settings.log {
                eprintln!("covwrap: {} has coverage meta {hash}", output.display());
            }
        }
    }
    Ok(())
}

/// The command for `program` (plus the chained wrapper), marked so that
/// proc-macros running inside this rustc never write coverage files.
fn command(program: &[String], args: &[String], settings: &Settings) -> Command {
    let mut full: Vec<&str> = Vec::new();
    if let Some(chain) = &settings.chain {
        full.push(chain);
    }
    full.extend(program.iter().map(String::as_str));
    let mut cmd = Command::new(full[0]);
    cmd.args(&full[1..]).args(args).env("COVWRAP_IN_RUSTC", "1");
    cmd
}

fn spawn(program: &[String], args: &[String], settings: &Settings) -> Result<ExitStatus> {
    command(program, args, settings)
        .status()
        .with_context(|| format!("cannot run {}", program.join(" ")))
}

/// Hands the process over to rustc (keeping cargo's jobserver descriptors).
fn exec(program: &[String], args: &[String], settings: &Settings) -> Result<u8> {
    use std::os::unix::process::CommandExt;
    let err = command(program, args, settings).exec();
    Err(err).with_context(|| format!("cannot run {}", program.join(" ")))
}

/// rustc killed by a signal shows as 128 + signal, as a shell would.
fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c.clamp(0, 255) as u8,
        (None, Some(sig)) => (128 + sig).clamp(0, 255) as u8,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn program_split() {
        let (p, r) = split_program(v(&["/tc/bin/rustc", "--crate-name", "a"]));
        assert_eq!((p, r), (v(&["/tc/bin/rustc"]), v(&["--crate-name", "a"])));
        let (p, r) = split_program(v(&["clippy-driver", "/tc/bin/rustc", "-vV"]));
        assert_eq!(
            (p, r),
            (v(&["clippy-driver", "/tc/bin/rustc"]), v(&["-vV"]))
        );
        let (p, r) = split_program(v(&["rustc", "-"]));
        assert_eq!((p, r), (v(&["rustc"]), v(&["-"])));
    }
}
