//! `cargo covwrap` and `covwrap env` on examples/attribution, whose tests
//! reach known code (its README): totals under `cargo test` and `cargo
//! nextest run`, which tests reached a line or a change, the nextest
//! filter run for real, gates, reports, `run`, `clean`, `--no-clean`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{self, assert_success, stderr, stdout, Project};

/// The cargo-covwrap binary of this workspace, beside covwrap.
fn cargo_covwrap_exe() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| support::covdata_bin("cargo-covwrap"))
        .clone()
}

/// The environment of a user's shell: nothing of the outer test run (its
/// cargo's or nextest's variables) leaks into the example's runs; $BROWSER
/// records what it was asked to open instead of opening anything.
fn user_env(cmd: &mut Command, project: &Project) {
    cmd.current_dir(&project.dir)
        .env("CARGO_TARGET_DIR", &project.target)
        .env("COVWRAP_CACHE_DIR", support::cache_dir())
        .env("BROWSER", browser_script(project))
        .env_remove("CARGO")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTFLAGS")
        .env_remove("COVDIR")
        .env_remove("COVWRAP_LABEL")
        .env_remove("COVWRAP_PKG")
        .env_remove("COVWRAP_MERGE")
        .env_remove("NEXTEST")
        .env_remove("NEXTEST_BINARY_ID")
        .env_remove("NEXTEST_TEST_NAME")
        .env_remove("NEXTEST_RUN_ID");
}

/// A fake browser: appends its arguments to `opened.txt` beside the project.
fn browser_script(project: &Project) -> PathBuf {
    let script = project.dir.with_file_name("browser.sh");
    if !script.exists() {
        let log = project.dir.with_file_name("opened.txt");
        fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n", log.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

/// `cargo covwrap ARGS` as cargo runs it (`cargo-covwrap covwrap ARGS`).
fn cargo_covwrap(project: &Project, args: &[&str]) -> Output {
    let mut cmd = Command::new(cargo_covwrap_exe());
    user_env(&mut cmd, project);
    cmd.arg("covwrap").args(args).output().unwrap()
}

fn ok(project: &Project, args: &[&str]) -> Output {
    let out = cargo_covwrap(project, args);
    assert_success(&out, &format!("cargo covwrap {}", args.join(" ")));
    out
}

fn covdir(project: &Project) -> PathBuf {
    project.target.join("covwrap/cov")
}

/// The `total` row of the percent table in `out`.
fn total_row(out: &Output) -> String {
    let text = stdout(out);
    let row = text
        .lines()
        .rfind(|l| l.starts_with("total "))
        .unwrap_or_else(|| panic!("no total row in\n{text}\n--- stderr\n{}", stderr(out)));
    row.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `covdata tests -i=COVDIR ARGS`, run in the project.
fn tests_query(project: &Project, args: &[&str]) -> String {
    let mut cmd = Command::new(support::covdata_exe());
    user_env(&mut cmd, project);
    let dir = covdir(project);
    let out = cmd
        .arg("tests")
        .arg(format!("-i={}", dir.display()))
        .args(args)
        .output()
        .unwrap();
    assert_success(&out, &format!("covdata tests {args:?}"));
    stdout(&out)
}

/// The labels of `covdata tests`' text output, sorted.
fn labels(text: &str) -> Vec<String> {
    let mut labels: Vec<String> = text
        .lines()
        .map(|l| {
            l.rsplit_once("  ")
                .map_or(l, |(label, _hits)| label)
                .trim_end()
                .to_string()
        })
        .collect();
    labels.sort();
    labels
}

fn counter_files(project: &Project) -> usize {
    fs::read_dir(covdir(project))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("covcounters."))
                .count()
        })
        .unwrap_or(0)
}

// Lines of examples/attribution: parse.rs:9 is parse's error return (test
// A only), render.rs:4 the sum in render (test B and the binary the cli test
// spawns), main.rs:5 main's success arm (only that binary), lib.rs:16 the
// body of fields (only its doctest, or the example).

/// `cargo test` through cargo covwrap: every line but main's error arm
/// (3 lines, 3 regions), with the doctest, the binary the cli test spawns;
/// the gate, the reports, `run`, `--no-clean`, `report --open`, `clean`,
/// `build`, a misplaced flag and `covwrap env`.
#[test]
fn cargo_covwrap_test_reports_run_clean_and_env() {
    let project = Project::example("attribution");
    let out = ok(&project, &["--lcov=lcov.info", "test"]);
    assert_eq!(
        total_row(&out),
        "total 88.46% (23/26) 94.44% (51/54) 100.00% (5/5)"
    );
    assert!(fs::read_to_string(project.dir.join("lcov.info"))
        .unwrap()
        .contains("SF:"));
    // The runs landed in one directory, each labelled by what ran it.
    assert_eq!(
        labels(&tests_query(&project, &["--line=src/parse.rs:9"])),
        ["attribution::parse"]
    );
    assert_eq!(
        labels(&tests_query(&project, &["--line=src/main.rs:5"])),
        ["attribution::cli"]
    );
    let doctest = labels(&tests_query(&project, &["--line=src/lib.rs:16"]));
    assert!(
        doctest.len() == 1 && doctest[0].ends_with("rust_out"),
        "{doctest:?}"
    );

    // A failed gate: exit 1, one line, the reports written anyway.
    let out = cargo_covwrap(
        &project,
        &[
            "--fail-under-lines=100",
            "--cobertura=c.xml",
            "--html",
            "test",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let gate_lines: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("cargo covwrap: "))
        .map(String::from)
        .collect();
    assert_eq!(
        gate_lines,
        [
            format!(
                "cargo covwrap: HTML report: {}",
                project.target.join("covwrap/html/index.html").display()
            ),
            "cargo covwrap: line coverage 88.46% (23/26) is below --fail-under-lines=100"
                .to_string()
        ]
    );
    assert!(project.dir.join("c.xml").is_file());
    assert!(project.target.join("covwrap/html/index.html").is_file());

    // `run` with the program's arguments and exit status; --no-clean adds
    // to what is there: now main's error arm is covered too.
    let out = cargo_covwrap(
        &project,
        &["--no-clean", "run", "--bin", "attribution", "--", "1,x"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("attribution: not an integer: \"x\""));
    assert_eq!(
        total_row(&out),
        "total 100.00% (26/26) 100.00% (54/54) 100.00% (5/5)"
    );

    // Each invocation starts clean: one run of the example alone.
    let out = ok(&project, &["run", "--example", "fields", "--", "a,b"]);
    assert_eq!(stdout(&out).lines().next(), Some("2"));
    assert_eq!(counter_files(&project), 1);
    assert_eq!(
        labels(&tests_query(&project, &["--line=src/lib.rs:16"])),
        [format!(
            "{} a,b",
            project.target.join("debug/examples/fields").display()
        )]
    );

    // `report` again, with --open: the fake browser gets the index.
    let before = total_row(&out);
    let out = ok(&project, &["report", "--open"]);
    assert_eq!(total_row(&out), before);
    let index = project.target.join("covwrap/html/index.html");
    assert!(index.is_file());
    let opened = poll_file(&project.dir.with_file_name("opened.txt"));
    assert_eq!(opened, format!("{}\n", index.display()));

    // The spelling: our flags after the cargo command.
    fs::remove_file(project.dir.with_file_name("opened.txt")).unwrap();
    fs::remove_dir_all(project.target.join("covwrap/html")).unwrap();
    let out = ok(&project, &["test", "--html", "--open"]);
    assert_eq!(
        total_row(&out),
        "total 88.46% (23/26) 94.44% (51/54) 100.00% (5/5)"
    );
    assert!(index.is_file());
    let opened = poll_file(&project.dir.with_file_name("opened.txt"));
    assert_eq!(opened, format!("{}\n", index.display()));

    // `build` runs nothing: no report, and how to get one.
    let out = ok(&project, &["build"]);
    assert!(stderr(&out).contains("no program wrote coverage into"));

    ok(&project, &["clean"]);
    assert!(!project.target.join("covwrap").exists());

    // A script running cargo itself.
    let covwrap_dir = Path::new(support::covwrap()).parent().unwrap();
    let mut sh = Command::new("sh");
    user_env(&mut sh, &project);
    let path = format!(
        "{}:{}",
        covwrap_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = sh
        .env("PATH", path)
        .args([
            "-c",
            "eval \"$(covwrap env)\" && cargo test -q && printf '%s' \"$COVDIR\"",
        ])
        .output()
        .unwrap();
    assert_success(&out, "eval \"$(covwrap env)\" && cargo test");
    assert!(stdout(&out).ends_with(&covdir(&project).display().to_string()));
    let out = ok(&project, &["report"]);
    assert_eq!(
        total_row(&out),
        "total 88.46% (23/26) 94.44% (51/54) 100.00% (5/5)"
    );

    // A wrapper already set is chained; covwrap itself is not.
    let env_with = |wrapper: &str| {
        let mut cmd = Command::new(support::covwrap());
        user_env(&mut cmd, &project);
        let out = cmd
            .arg("env")
            .env("RUSTC_WRAPPER", wrapper)
            .output()
            .unwrap();
        assert_success(&out, "covwrap env");
        stdout(&out)
    };
    assert!(env_with("sccache").ends_with("export COVWRAP_RUSTC_WRAPPER='sccache'\n"));
    assert!(!env_with(support::covwrap()).contains("COVWRAP_RUSTC_WRAPPER"));

    // A failing test: cargo's status, and the report on what ran.
    fs::write(
        project.dir.join("tests/failing.rs"),
        "#[test]\nfn fails() {\n    assert_eq!(attribution::render(&[1]), \"wrong\");\n}\n",
    )
    .unwrap();
    let out = cargo_covwrap(&project, &["--json=cov.json", "test"]);
    assert_eq!(out.status.code(), Some(101), "{}", stderr(&out));
    assert!(total_row(&out).starts_with("total "));
    assert!(project.dir.join("cov.json").is_file());
    fs::remove_file(project.dir.join("tests/failing.rs")).unwrap();

    // Without covwrap beside it or on PATH: one line saying so.
    let alone = project.dir.with_file_name("alone");
    fs::create_dir_all(&alone).unwrap();
    // A hard link, not a copy: a copy's write descriptor, inherited by a
    // sibling test's fork until its exec, makes running it fail with
    // ETXTBSY for a moment.
    let alone_exe = alone.join("cargo-covwrap");
    let _ = fs::remove_file(&alone_exe);
    if fs::hard_link(cargo_covwrap_exe(), &alone_exe).is_err() {
        fs::copy(cargo_covwrap_exe(), &alone_exe).unwrap();
    }
    let mut cmd = Command::new(&alone_exe);
    user_env(&mut cmd, &project);
    let out = cmd
        .args(["covwrap", "test"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("cargo covwrap: covwrap (the RUSTC_WRAPPER) is neither beside ")
            && err.lines().count() == 1,
        "{err}"
    );
}

/// What the fake browser recorded (it runs in the background).
fn poll_file(path: &Path) -> String {
    for _ in 0..200 {
        if let Ok(text) = fs::read_to_string(path) {
            if text.ends_with('\n') {
                return text;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("the browser was not started: no {}", path.display());
}

/// `cargo nextest run` through cargo covwrap (one process per test; no
/// doctests, and fields is linked into no binary), `covdata tests` by line
/// and by change in a git repository, and its nextest filter run for real.
#[test]
fn cargo_covwrap_nextest_and_which_tests_to_rerun() {
    let project = Project::example("attribution");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&project.dir)
            .output()
            .unwrap();
        assert_success(&out, &format!("git {args:?}"));
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "example"]);

    let out = ok(&project, &["nextest", "run"]);
    assert_eq!(
        total_row(&out),
        "total 86.96% (20/23) 93.88% (46/49) 100.00% (4/4)"
    );
    let a = "attribution::parse parse_reads_integers_and_rejects_words";
    let b = "attribution::render render_writes_the_sum";
    let spawning = "attribution::cli cli_prints_the_sum";
    assert_eq!(
        labels(&tests_query(&project, &["--line=src/parse.rs:9"])),
        [a]
    );

    // Change render(), keeping its output: the tests to rerun are B and the
    // test whose spawned binary renders.
    let render = project.dir.join("src/render.rs");
    let text = fs::read_to_string(&render).unwrap();
    fs::write(
        &render,
        text.replace("numbers.iter().sum()", "numbers.iter().copied().sum()"),
    )
    .unwrap();
    assert_eq!(
        labels(&tests_query(&project, &["--base=HEAD"])),
        [spawning, b]
    );
    let filter = tests_query(&project, &["--base=HEAD", "--format=nextest-filter"]);
    let filter = filter.trim();

    // nextest accepts the filter and runs exactly those two tests.
    let out = ok(&project, &["nextest", "run", "-E", filter]);
    assert!(
        stderr(&out).contains("2 tests run: 2 passed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        labels(&tests_query(&project, &["--line=src/render.rs:4"])),
        [spawning, b]
    );
    assert_eq!(tests_query(&project, &["--line=src/parse.rs:9"]), "");
}
