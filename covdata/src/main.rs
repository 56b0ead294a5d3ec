//! The `covdata` command: reports over covwrap coverage directories.
//!
//! Exit status: 0 on success (a closed stdout pipe counts as success),
//! 1 on bad input or failed output, 2 on bad usage.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use covdata::crates::CrateFilter;
use covdata::report::{self, Context, ReportOptions};
use covdata::{load_coverage_with, ops, profraw, Coverage, Error};

const USAGE: &str = "\
usage: covdata <command> -i=DIR[,DIR...] [flags]

Commands:
  debugdump   dump pods, functions and runs (format not stable)
  textfmt     Go legacy text profile (mode: count), one line per code region
  percent     line, region and function coverage per crate, then the total
  func        line coverage per function, then the total
  pkglist     crate names, sorted
  lcov        LCOV tracefile as llvm-cov export -format=lcov writes it
  profraw     one LLVM raw profile (version 10) per pod into -o=OUTDIR
  merge       sum all runs into -o=OUTDIR (one pod per input pod; --pcombine: one pod)
              --in-place -i=DIR: fold each pod's counter files into its pool
  subtract    -i=A,B -o=OUTDIR: the regions A reaches and B does not
  intersect   -i=A,B[,...] -o=OUTDIR: the regions every input reaches

Flags:
  -i, --input DIR[,DIR...]   input directories (repeatable)
  -o, --output PATH          output file (directory for profraw, merge, subtract,
                             intersect); default stdout
  --pkg GLOBS                keep crates matching comma-separated globs (* and ?)
  --root DIR                 make report paths relative to DIR (textfmt, func)
  --mangled                  print mangled function names (lcov, func)
  --ignore-bad               skip bad files with a warning instead of failing
  --pcombine                 merge: fold pods of different binaries into one pod
  --in-place                 merge: compact the one input directory (pools)
  --include-live             also read running processes' dense counter files
                             (COVWRAP_CONTINUOUS), as a snapshot
  -h, --help                 show this help
";

#[derive(Debug, Default)]
struct Args {
    command: String,
    inputs: Vec<PathBuf>,
    output: Option<PathBuf>,
    pkg: Option<String>,
    root: Option<String>,
    mangled: bool,
    ignore_bad: bool,
    pcombine: bool,
    in_place: bool,
    include_live: bool,
}

/// Splits `-x=v`, `--x=v`, `-x v` and `--x v` forms.
fn parse_args(raw: Vec<String>) -> Result<Option<Args>, String> {
    let mut it = raw.into_iter();
    let mut args = Args::default();
    let mut command = None;
    while let Some(arg) = it.next() {
        if !arg.starts_with('-') || arg == "-" {
            if command.is_some() {
                return Err(format!("unexpected argument {arg:?}"));
            }
            command = Some(arg);
            continue;
        }
        let body = arg.trim_start_matches('-');
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .ok_or_else(|| format!("flag -{name} needs a value")),
            }
        };
        match name {
            "h" | "help" => return Ok(None),
            "i" | "input" => {
                for dir in value(name)?.split(',').filter(|d| !d.is_empty()) {
                    args.inputs.push(PathBuf::from(dir));
                }
            }
            "o" | "output" => args.output = Some(PathBuf::from(value(name)?)),
            "pkg" => args.pkg = Some(value(name)?),
            "root" => args.root = Some(value(name)?),
            "mangled" | "ignore-bad" | "pcombine" | "in-place" | "include-live"
                if inline.is_some() =>
            {
                return Err(format!("flag -{name} takes no value"));
            }
            "mangled" => args.mangled = true,
            "ignore-bad" => args.ignore_bad = true,
            "pcombine" => args.pcombine = true,
            "in-place" => args.in_place = true,
            "include-live" => args.include_live = true,
            _ => return Err(format!("unknown flag {arg:?}")),
        }
    }
    args.command = command.ok_or("no command given")?;
    Ok(Some(args))
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(raw) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("covdata: {msg}");
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    const COMMANDS: [&str; 10] = [
        "debugdump",
        "textfmt",
        "percent",
        "func",
        "pkglist",
        "lcov",
        "profraw",
        "merge",
        "subtract",
        "intersect",
    ];
    if !COMMANDS.contains(&args.command.as_str()) {
        eprintln!("covdata: unknown command {:?}", args.command);
        eprint!("{USAGE}");
        return ExitCode::from(2);
    }
    if args.inputs.is_empty() {
        eprintln!(
            "covdata: {}: no input directories (use -i=DIR)",
            args.command
        );
        return ExitCode::from(2);
    }
    if args.command == "profraw" && args.output.is_none() {
        eprintln!("covdata: profraw: needs -o=OUTDIR");
        return ExitCode::from(2);
    }
    if let Err(msg) = check_writing_usage(&args) {
        eprintln!("covdata: {}: {msg}", args.command);
        return ExitCode::from(2);
    }
    covdata::dense::set_include_live(args.include_live);
    let result = if WRITERS.contains(&args.command.as_str()) {
        run_writer(&args)
    } else {
        run(&args)
    };
    let live = covdata::dense::take_live_skipped();
    if live > 0 {
        eprintln!("covdata: note: skipped {live} counter files of running processes (COVWRAP_CONTINUOUS); --include-live reads them");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("covdata: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Commands that write a coverage directory.
const WRITERS: [&str; 3] = ["merge", "subtract", "intersect"];

/// Usage rules of the writing commands and of their flags elsewhere.
fn check_writing_usage(args: &Args) -> Result<(), String> {
    let writer = WRITERS.contains(&args.command.as_str());
    if !writer && (args.pcombine || args.in_place) {
        return Err("--pcombine and --in-place are merge flags".into());
    }
    if !writer {
        return Ok(());
    }
    if args.command != "merge" && (args.pcombine || args.in_place) {
        return Err("--pcombine and --in-place are merge flags".into());
    }
    if args.in_place {
        if args.inputs.len() != 1 {
            return Err("--in-place compacts exactly one directory (-i=DIR)".into());
        }
        if args.output.is_some() || args.pcombine || args.pkg.is_some() {
            return Err("--in-place takes no -o, --pcombine or --pkg".into());
        }
        return Ok(());
    }
    let Some(out) = &args.output else {
        return Err("needs -o=OUTDIR".into());
    };
    match args.command.as_str() {
        "subtract" if args.inputs.len() != 2 => {
            return Err(format!(
                "needs exactly two input directories (-i=A,B), got {}",
                args.inputs.len()
            ));
        }
        "intersect" if args.inputs.len() < 2 => {
            return Err(format!(
                "needs at least two input directories (-i=A,B,...), got {}",
                args.inputs.len()
            ));
        }
        _ => {}
    }
    if let Ok(out) = out.canonicalize() {
        for input in &args.inputs {
            if input.canonicalize().is_ok_and(|i| i == out) {
                return Err(format!(
                    "the output directory {} is also an input (use merge --in-place to compact a directory)",
                    input.display()
                ));
            }
        }
    }
    Ok(())
}

fn warn_skipped(skipped: &[Error]) {
    for e in skipped {
        eprintln!("covdata: warning: {e}");
    }
    if !skipped.is_empty() {
        eprintln!("covdata: warning: {}", ops::skipped_line(skipped.len()));
    }
}

fn run_writer(args: &Args) -> anyhow::Result<()> {
    let ignore_bad = args.ignore_bad;
    if args.in_place {
        let dir = &args.inputs[0];
        let report = ops::compact(dir, ops::CompactOptions { ignore_bad }).map_err(plain)?;
        warn_skipped(&report.skipped);
        for e in &report.not_deleted {
            eprintln!("covdata: warning: {e} (the pool lists it as absorbed; readers ignore it)");
        }
        let stdout = io::stdout();
        let mut out = io::BufWriter::new(stdout.lock());
        for p in &report.pods {
            writeln!(
                out,
                "{}\tfolded {} files\truns {}",
                p.pool.display(),
                p.folded,
                p.runs
            )
            .context("writing to standard output")?;
        }
        out.flush().context("writing to standard output")?;
        return Ok(());
    }
    let opts = ops::OpOptions {
        crates: CrateFilter::parse(args.pkg.as_deref().unwrap_or("")),
        ignore_bad,
    };
    let load_opts = covdata::LoadOptions {
        ignore_bad,
        ..Default::default()
    };
    let output = match args.command.as_str() {
        "merge" => {
            let loaded = covdata::load(&args.inputs, load_opts).map_err(plain)?;
            ops::merge(
                &loaded,
                &ops::MergeOptions {
                    pcombine: args.pcombine,
                    op: opts,
                },
            )
        }
        command => {
            let mut inputs = Vec::with_capacity(args.inputs.len());
            for dir in &args.inputs {
                inputs.push(covdata::load(std::slice::from_ref(dir), load_opts).map_err(plain)?);
            }
            if command == "subtract" {
                ops::subtract(&inputs, &opts)
            } else {
                ops::intersect(&inputs, &opts)
            }
        }
    }
    .map_err(plain)?;
    warn_skipped(&output.skipped);
    for note in &output.notes {
        eprintln!("covdata: {note}");
    }
    if output.saturated {
        eprintln!(
            "covdata: warning: some counts saturated at 2^64-1; the output's counter files are flagged as saturated"
        );
    }
    if output.files.is_empty() {
        if let Some(pkg) = &args.pkg {
            anyhow::bail!("no function of the inputs belongs to a crate matching --pkg={pkg}");
        }
        return Err(plain(covdata::pods::no_pods(&args.inputs)));
    }
    let dir = args.output.as_deref().expect("checked");
    output.write_to(dir).map_err(plain)?;
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run(args: &Args) -> anyhow::Result<()> {
    // Only debugdump lists every run; other reports keep memory flat in
    // the number of counter files.
    let opts = covdata::LoadOptions {
        ignore_bad: args.ignore_bad,
        keep_runs: args.command == "debugdump",
        ..Default::default()
    };
    let cov: Coverage = load_coverage_with(&args.inputs, opts).map_err(plain)?;
    warn_about(&cov);
    if cov.pods.is_empty() {
        return Err(plain(covdata::pods::no_pods(&args.inputs)));
    }
    if args.command == "profraw" {
        let dir = args.output.as_deref().expect("checked");
        return write_profraws(&cov, dir);
    }
    let opts = ReportOptions {
        crates: CrateFilter::parse(args.pkg.as_deref().unwrap_or("")),
        root: args.root.clone(),
        mangled: args.mangled,
    };
    let ctx = Context::new(&cov, opts);
    let write: fn(&Context, &mut dyn Write) -> io::Result<()> = match args.command.as_str() {
        "debugdump" => report::debugdump::write,
        "textfmt" => report::textfmt::write,
        "percent" => report::percent::write,
        "func" => report::func::write,
        "pkglist" => report::pkglist::write,
        "lcov" => report::lcov::write,
        other => unreachable!("command {other} checked above"),
    };
    match &args.output {
        Some(path) => {
            covdata::output::write_atomic(path, |w| write(&ctx, w)).map_err(plain)?;
        }
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            write(&ctx, &mut out)
                .and_then(|()| out.flush())
                .context("writing to standard output")?;
        }
    }
    Ok(())
}

/// Keeps the library error's one-line message as the whole message.
fn plain(e: Error) -> anyhow::Error {
    anyhow::Error::msg(e.to_string())
}

fn warn_about(cov: &Coverage) {
    for e in &cov.skipped {
        eprintln!("covdata: warning: {e}");
    }
    if !cov.skipped.is_empty() {
        eprintln!(
            "covdata: warning: skipped {} bad input{}",
            cov.skipped.len(),
            if cov.skipped.len() == 1 { "" } else { "s" }
        );
    }
    if !cov.hash_mismatches.is_empty() {
        eprintln!(
            "covdata: warning: {} functions have mismatched data (their counters come from a different build); they are left out, as llvm-cov does",
            cov.hash_mismatches.len()
        );
    }
    if cov.count_mismatches > 0 {
        eprintln!(
            "covdata: warning: {} profile records had a different counter count than an earlier one with the same name and hash and were not merged",
            cov.count_mismatches
        );
    }
}

fn write_profraws(cov: &Coverage, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| plain(Error::io(dir, &e)))?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for pod in &cov.pods {
        let ids: Vec<&str> = pod
            .modules
            .iter()
            .filter_map(|m| m.ident_value("build-id"))
            .collect();
        let build_id = (!ids.is_empty()).then(|| ids.join(","));
        let bytes = profraw::encode_pod(pod);
        let path = dir.join(format!("{}.profraw", pod.hash_hex()));
        covdata::output::write_atomic(&path, |w| w.write_all(&bytes)).map_err(plain)?;
        // The most recent run names the binary to pair the profile with.
        let exe = pod.summary.latest_exe();
        writeln!(
            out,
            "{}\tbuild-id={}\texe={}",
            path.display(),
            build_id.as_deref().unwrap_or("none"),
            exe.unwrap_or("unknown")
        )
        .context("writing to standard output")?;
    }
    out.flush().context("writing to standard output")?;
    Ok(())
}
