//! The command line: Go's flag spellings next to clap's, help, version,
//! typo suggestions, completions, non-UTF-8 arguments, `--fail-under-*`
//! gates, and the input and `--pkg` messages, on a real COVDIR.

mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::*;

const PROGRAM: &str = r#"
fn classify(n: i32) -> &'static str {
    if n < 0 {
        "neg"
    } else if n == 0 {
        "zero"
    } else {
        "pos"
    }
}

fn never() -> u32 {
    let mut x = 0;
    for i in 0..3 {
        x += i;
    }
    x
}

fn main() {
    for a in std::env::args().skip(1) {
        println!("{}", classify(a.parse().unwrap()));
    }
    if std::env::args().count() > 10 {
        println!("{}", never());
    }
}
"#;

/// A COVDIR of one run of the program (`1`: `neg` and `zero` unreached),
/// built once; each test copies it.
fn fixture() -> &'static Vec<(OsString, Vec<u8>)> {
    static FILES: OnceLock<Vec<(OsString, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let s = Scratch::new("cli-fixture");
        s.write("main.rs", PROGRAM);
        rustc(&s.dir, &["main.rs", "-o", "main"], &[]);
        let bin = s.path("main");
        let run = s.path("a.profraw");
        run_profiled(&bin, &["1"], &run);
        make_covdir(&s.path("covdir"), &[bin], &[run]);
        std::fs::read_dir(s.path("covdir"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name(), std::fs::read(e.path()).unwrap())
            })
            .collect()
    })
}

fn covdir_at(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in fixture() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    dir.to_path_buf()
}

fn covdir(s: &Scratch) -> PathBuf {
    covdir_at(&s.path("covdir"))
}

fn covdata_os(args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_covdata"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn go_and_clap_spellings_give_the_same_report() {
    let s = Scratch::new("cli-spellings");
    let dir = covdir(&s);
    let d = dir.display().to_string();
    let root = s.dir.display().to_string();
    let reference = covdata_ok(&["func", &format!("-i={d}"), &format!("--root={root}")]);
    assert!(reference.contains("classify"), "{reference}");
    for args in [
        vec![
            "func".to_string(),
            "-i".into(),
            d.clone(),
            "-root".into(),
            root.clone(),
        ],
        vec![
            "func".into(),
            format!("-input={d}"),
            format!("-root={root}"),
        ],
        vec![
            "func".into(),
            "--input".into(),
            d.clone(),
            "--root".into(),
            root.clone(),
        ],
        vec![
            "func".into(),
            format!("--i={d}"),
            "-pkg=ma*".into(),
            format!("-root={root}"),
        ],
        vec![
            "func".into(),
            format!("-i{d}"),
            "--pkg".into(),
            "zz,m?in".into(),
            format!("--root={root}"),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(covdata_ok(&args), reference, "{args:?}");
    }
    // Repeated and comma-separated inputs: the same pod twice sums its runs.
    let twice = covdata_ok(&["textfmt", &format!("-i={d},{d}")]);
    assert_eq!(covdata_ok(&["textfmt", "-i", &d, "-i", &d]), twice);
    assert_ne!(covdata_ok(&["textfmt", "-i", &d]), twice);
    // -o=FILE, -o FILE, --output=FILE, -output FILE.
    let text = covdata_ok(&["textfmt", &format!("-i={d}")]);
    for (i, flag) in ["-o=", "-o", "--output=", "-output"].iter().enumerate() {
        let path = s.path(&format!("out{i}.txt"));
        let p = path.display().to_string();
        let args: Vec<String> = if flag.ends_with('=') {
            vec!["textfmt".into(), format!("-i={d}"), format!("{flag}{p}")]
        } else {
            vec!["textfmt".into(), format!("-i={d}"), flag.to_string(), p]
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(covdata_ok(&args), "", "{args:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{args:?}");
    }
}

#[test]
fn help_version_and_suggestions() {
    let top = covdata(&["--help"]);
    assert_eq!(top.status.code(), Some(0));
    for cmd in ["textfmt", "percent", "func", "lcov", "merge", "completions"] {
        assert!(stdout(&top).contains(cmd), "{cmd} missing from --help");
    }
    for help in [
        vec!["help", "percent"],
        vec!["percent", "--help"],
        vec!["percent", "-help"],
        vec!["percent", "-h"],
    ] {
        let out = covdata(&help);
        assert_eq!(out.status.code(), Some(0), "{help:?}");
        let text = stdout(&out);
        assert!(text.contains("Usage: covdata percent"), "{help:?}: {text}");
        assert!(text.contains("Examples:\n  covdata percent -i="), "{text}");
        assert!(text.contains("--fail-under-lines <PCT>"), "{text}");
    }
    let version = format!("covdata {}\n", env!("CARGO_PKG_VERSION"));
    for flag in ["--version", "-V", "-version"] {
        let out = covdata(&[flag]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), version, "{flag}");
    }
    // No command: the help, as a usage error.
    let out = covdata(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Commands:"), "{}", stderr(&out));
    // Typos get clap's suggestions, status 2.
    let out = covdata(&["percnt", "-i=x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("covdata: unknown command \"percnt\"\n"),
        "{err}"
    );
    assert!(
        err.contains("similar subcommand exists: 'percent'"),
        "{err}"
    );
    let out = covdata(&["percent", "-i=x", "--ignore-bda"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("covdata: unexpected argument '--ignore-bda'"),
        "{err}"
    );
    assert!(err.contains("--ignore-bad"), "{err}");
    // A flag of another command, a bad percentage, a missing -i.
    for args in [
        vec!["percent", "-i=x", "--pcombine"],
        vec!["percent", "-i=x", "--fail-under-lines=101"],
        vec!["percent", "-i=x", "--fail-under-lines=high"],
        vec!["textfmt", "-i=x", "--mangled"],
        vec!["percent"],
    ] {
        let out = covdata(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).starts_with("covdata: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn every_command_has_help_with_examples() {
    let top = stdout(&covdata(&["--help"]));
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        // Command names start two columns in; a wrapped description,
        // further right.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 20, "{commands:?}");
    for cmd in commands {
        let out = covdata(&["help", cmd]);
        assert_eq!(out.status.code(), Some(0), "{cmd}");
        let text = stdout(&out);
        assert!(
            text.contains(&format!("Usage: covdata {cmd}")),
            "{cmd}: {text}"
        );
        assert!(
            text.contains(&format!("Examples:\n  covdata {cmd} ")),
            "{cmd} has no examples: {text}"
        );
    }
}

/// The README's GitLab job, on real output: its `coverage:` regex finds
/// the line coverage `percent` prints, and its `-pkg=` filter works on
/// `cobertura` as on `percent`.
#[test]
fn readme_gitlab_snippet_reads_real_output() {
    let s = Scratch::new("cli-gitlab");
    let d = format!("-i={}", covdir(&s).display());
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let pattern = readme
        .lines()
        .find_map(|l| l.trim().strip_prefix("coverage: '/")?.strip_suffix("/'"))
        .expect("README has GitLab's coverage: regex");
    // GitLab matches the job log line by line and takes the last match.
    let re = regex::Regex::new(&format!("(?m){pattern}")).unwrap();
    let log = covdata_ok(&["percent", &d, "-pkg=ma*", "--fail-under-lines=10"]);
    let found = re
        .captures_iter(&log)
        .last()
        .unwrap_or_else(|| panic!("{pattern} finds nothing in {log}"))[1]
        .to_string();
    let lcov = covdata_ok(&["lcov", &d]);
    let sum = |key: &str| -> u64 {
        lcov.lines()
            .filter_map(|l| l.strip_prefix(key))
            .map(|v| v.parse::<u64>().unwrap())
            .sum()
    };
    let (hit, found_lines) = (sum("LH:"), sum("LF:"));
    assert!(found_lines > 0 && hit < found_lines, "{lcov}");
    assert_eq!(
        found,
        format!("{:.2}", 100.0 * hit as f64 / found_lines as f64),
        "{log}"
    );

    // Cobertura with the same filter: the crate's lines; a filter that
    // matches no crate is an error naming it, and writes nothing.
    let xml = s.path("coverage.xml");
    let o = format!("-o={}", xml.display());
    assert_eq!(covdata_ok(&["cobertura", &d, "-pkg=ma*", &o]), "");
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(
        text.contains(&format!(
            "lines-covered=\"{hit}\" lines-valid=\"{found_lines}\""
        )),
        "{text}"
    );
    std::fs::remove_file(&xml).unwrap();
    let out = covdata(&["cobertura", &d, "-pkg=zz*", &o]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--pkg=zz* matches no crate"),
        "{}",
        stderr(&out)
    );
    assert!(!xml.exists());
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = covdata(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for word in ["covdata", "percent", "fail-under-lines", "ignore-bad"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    // bash loads the script and registers the completion.
    let s = Scratch::new("cli-completions");
    let script = s.path("covdata.bash");
    std::fs::write(&script, covdata(&["completions", "bash"]).stdout).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p covdata",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("covdata"), "{}", stdout(&out));
    let out = covdata(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn non_utf8_arguments() {
    let s = Scratch::new("cli-nonutf8");
    // A COVDIR and an output file whose names are not UTF-8.
    let dir = covdir_at(&s.dir.join(OsStr::from_bytes(b"cov-\xff")));
    let good = covdir(&s);
    let mut i = OsString::from("-i=");
    i.push(&dir);
    let out_file = s.dir.join(OsStr::from_bytes(b"out-\xfe.txt"));
    let mut o = OsString::from("-o=");
    o.push(&out_file);
    let out = covdata_os(&[OsStr::new("lcov"), &i, &o]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        covdata_ok(&["lcov", &format!("-i={}", good.display())])
    );
    // A glob must be text: one usage line, status 2.
    let pkg = OsStr::from_bytes(b"-pkg=m\xffin");
    let out = covdata_os(&[OsStr::new("percent"), &i, pkg]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "covdata: percent: --pkg=m\u{fffd}in: crate-name globs must be valid UTF-8\n"
    );
    let out = covdata_os(&[OsStr::new("func"), &i, OsStr::from_bytes(b"--root=/r\xff")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "covdata: func: --root=/r\u{fffd}: recorded source paths are UTF-8, so the root must be too\n"
    );
    let out = covdata_os(&[OsStr::new("merge"), &i, pkg, OsStr::new("-o=x")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // A non-UTF-8 command name or flag is a usage error, not a panic.
    for bad in [&b"perc\xffent"[..], b"--\xff", b"-\xff"] {
        let out = covdata_os(&[OsStr::from_bytes(bad), &i]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("covdata: "), "{}", stderr(&out));
    }
}

/// The total cells of `percent`: lines, regions, functions.
fn total_cells(percent: &str) -> Vec<String> {
    let total = percent.lines().last().unwrap();
    let cells: Vec<String> = total
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(cells[0], "total", "{percent}");
    cells[1..4].to_vec()
}

#[test]
fn gates_write_the_report_then_fail() {
    let s = Scratch::new("cli-gates");
    let dir = covdir(&s);
    let i = format!("-i={}", dir.display());
    let percent = covdata_ok(&["percent", &i]);
    let cells = total_cells(&percent);
    // classify ran with 1 only, never() not at all, main without its `if`.
    assert_eq!(cells[2], "66.67% (2/3)", "{percent}");
    // Every threshold met (equal counts as met): status 0, no extra line.
    let out = covdata(&[
        "percent",
        &i,
        "--fail-under-lines=10",
        "--fail-under-regions=0",
        "-fail-under-functions=66.66",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), percent);
    assert_eq!(stderr(&out), "");
    // Two of three fail: the report, then one line for each, status 1.
    let out = covdata(&[
        "percent",
        &i,
        "--fail-under-lines=99.5",
        "--fail-under-regions=1",
        "--fail-under-functions=100",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), percent);
    let lines_cell = &cells[0];
    assert_eq!(
        stderr(&out),
        format!(
            "covdata: line coverage {lines_cell} is below --fail-under-lines=99.5\n\
             covdata: function coverage 66.67% (2/3) is below --fail-under-functions=100\n"
        )
    );
    // The region gate alone, in Go's single-dash spelling.
    let out = covdata(&["percent", &i, "-fail-under-regions=99"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), percent);
    assert_eq!(
        stderr(&out),
        format!(
            "covdata: region coverage {} is below --fail-under-regions=99\n",
            cells[1]
        )
    );
    // Every report accepts the gates and still writes its output.
    for report in [
        "textfmt",
        "func",
        "lcov",
        "pkglist",
        "debugdump",
        "sonar",
        "json",
    ] {
        let path = s.path(&format!("{report}.out"));
        let o = format!("-o={}", path.display());
        let out = covdata(&[report, &i, &o, "--fail-under-functions=90"]);
        assert_eq!(out.status.code(), Some(1), "{report}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "covdata: function coverage 66.67% (2/3) is below --fail-under-functions=90\n",
            "{report}"
        );
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written, covdata_ok(&[report, &i]), "{report}");
    }
}

#[test]
fn covdata_help_is_what_covwrap_help_points_at() {
    let out = covdata(&["help"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Commands:\n  debugdump"),
        "{}",
        stdout(&out)
    );
    let out = covdata(&["help", "merge"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("--pcombine"));
}

#[test]
fn a_pkg_filter_that_matches_no_crate_is_an_error() {
    let s = Scratch::new("cli-pkg");
    let dir = covdir(&s);
    let i = format!("-i={}", dir.display());
    let out_file = s.path("out.txt");
    let o = format!("-o={}", out_file.display());
    for report in ["percent", "lcov", "func", "textfmt", "pkglist"] {
        let out = covdata(&[report, &i, "-pkg=zz*,other", &o]);
        assert_eq!(out.status.code(), Some(1), "{report}");
        assert_eq!(
            stderr(&out),
            "covdata: --pkg=zz*,other matches no crate of the inputs (crates present: main)\n"
        );
        assert!(!out_file.exists(), "{report} wrote a report");
    }
    let out = covdata(&[
        "merge",
        &i,
        "--pkg=other",
        &format!("-o={}", s.path("m").display()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "covdata: no function of the inputs belongs to a crate matching --pkg=other\n"
    );
}

#[test]
fn empty_and_missing_input_directories() {
    let s = Scratch::new("cli-dirs");
    let good = covdir(&s);
    let empty = s.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let alone = covdata_ok(&["percent", &format!("-i={}", good.display())]);
    let warning = format!(
        "covdata: warning: {}: no covmeta or covcounters files in this directory\n",
        empty.display()
    );
    // Next to data, an empty directory is one warning line.
    for i in [
        format!("-i={},{}", empty.display(), good.display()),
        format!("-i={},{}", good.display(), empty.display()),
    ] {
        let out = covdata(&["percent", &i]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(stderr(&out), warning);
        assert_eq!(stdout(&out), alone);
        let merged = s.path("merged");
        let _ = std::fs::remove_dir_all(&merged);
        let out = covdata(&["merge", &i, &format!("-o={}", merged.display())]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(stderr(&out), warning);
        assert_eq!(
            covdata_ok(&["percent", &format!("-i={}", merged.display())]),
            alone
        );
    }
    // Without any data it still fails.
    let empty2 = s.path("empty2");
    std::fs::create_dir_all(&empty2).unwrap();
    let out = covdata(&[
        "percent",
        &format!("-i={},{}", empty.display(), empty2.display()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "covdata: {}: no covmeta or covcounters files in this directory\n",
            empty.display()
        )
    );
    // A missing directory is an error even next to data: a mistyped path.
    let missing = s.path("missing");
    for i in [
        format!("-i={}", missing.display()),
        format!("-i={},{}", good.display(), missing.display()),
    ] {
        let out = covdata(&["lcov", &i]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            stderr(&out),
            format!(
                "covdata: input directory {} does not exist\n",
                missing.display()
            )
        );
        assert!(out.stdout.is_empty());
    }
}
