//! How covwrap behaves as cargo's RUSTC_WRAPPER: which crates it
//! instruments, cargo commands, fingerprints, dep-info, profiles, chained
//! wrappers and refusals.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use covwrap_rt::format::meta::MetaFile;

use crate::support::*;

fn files_after_run(exe: &Path, args: &[&str]) -> CovDir {
    let cov = scratch("run-cov");
    run(exe, args, Some(&cov));
    CovDir::read(&cov)
}

#[test]
fn switching_covwrap_off_and_on_never_reuses_the_other_build() {
    let p = Project::example("cli");
    let exe = p.exe("debug", "cli");
    p.cargo_plain(&["build"]);
    assert_eq!(
        files_after_run(&exe, &["help"]).counters.len(),
        0,
        "plain build writes nothing"
    );
    p.cargo(&["build"]);
    assert_eq!(
        files_after_run(&exe, &["help"]).counters.len(),
        1,
        "covwrap build after a plain one"
    );
    p.cargo_plain(&["build"]);
    assert_eq!(
        files_after_run(&exe, &["help"]).counters.len(),
        0,
        "plain build after a covwrap one"
    );
    let out = p.cargo(&["build"]);
    assert!(
        !stderr(&out).contains("Compiling cli"),
        "switching back reuses the earlier covwrap build"
    );
    assert_eq!(files_after_run(&exe, &["help"]).counters.len(), 1);
}

#[test]
fn covwrap_pkg_adds_registry_crates_and_excludes_local_ones() {
    let p = Project::example("workspace");
    let exe = p.exe("debug", "app");
    p.cargo(&["build"]);
    let default = files_after_run(&exe, &[]);
    let funcs = |d: &CovDir| {
        MetaFile::parse(d.metas.values().next().unwrap())
            .unwrap()
            .modules()[0]
            .num_funcs()
    };
    let base = funcs(&default);
    // Adding the crates.io dependency instruments it too (and rebuilds).
    let with_itoa = p
        .cargo_cmd(&["build"], true)
        .env("COVWRAP_PKG", "itoa")
        .output()
        .unwrap();
    assert_success(&with_itoa, "build with COVWRAP_PKG=itoa");
    assert!(
        stderr(&with_itoa).contains("Compiling itoa"),
        "changing COVWRAP_PKG rebuilds"
    );
    assert!(
        funcs(&files_after_run(&exe, &[])) > base,
        "itoa's functions are now counted"
    );
    // Excluding every local crate leaves nothing instrumented.
    let none = p
        .cargo_cmd(&["build"], true)
        .env("COVWRAP_PKG", "!*")
        .output()
        .unwrap();
    assert_success(&none, "build with COVWRAP_PKG=!*");
    assert_eq!(files_after_run(&exe, &[]).counters.len(), 0);
    // Excluding one crate keeps the rest.
    let some = p
        .cargo_cmd(&["build"], true)
        .env("COVWRAP_PKG", "!wscore")
        .output()
        .unwrap();
    assert_success(&some, "build with COVWRAP_PKG=!wscore");
    let n = funcs(&files_after_run(&exe, &[]));
    assert!(
        n > 0 && n < base,
        "{n} functions with wscore excluded, {base} without"
    );
}

#[test]
fn cargo_test_writes_per_test_binary_and_never_a_profraw() {
    let p = Project::example("workspace");
    let cov = scratch("ws-test-cov");
    p.cargo_with(&["test"], &[("COVDIR", cov.as_ref())]);
    let dir = CovDir::read(&cov);
    dir.assert_clean();
    let exes: std::collections::BTreeSet<String> = dir
        .counter_files()
        .filter_map(|f| {
            f.args()
                .iter()
                .find(|(k, _)| k == "exe")
                .map(|(_, v)| v.clone())
        })
        .map(|e| {
            Path::new(&e)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .split('-')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    for want in ["app", "shared", "wscore", "describe", "rust_out"] {
        assert!(exes.contains(want), "no coverage from {want}: {exes:?}");
    }
    // Every binary has its own meta; nothing ran during the build wrote
    // anything (build script and proc-macro link instrumented code).
    assert!(dir.metas.len() >= 6, "{} metas", dir.metas.len());
    assert_eq!(
        find_profraw(&[&p.dir, &p.target, &cov]),
        Vec::<std::path::PathBuf>::new()
    );
}

#[test]
fn nothing_that_runs_during_the_build_writes_coverage() {
    let p = Project::example("workspace");
    let cov = scratch("build-time-cov");
    let out = p.cargo_with(&["build"], &[("COVDIR", cov.as_ref())]);
    assert_eq!(
        fs::read_dir(&cov).unwrap().count(),
        0,
        "build script or proc-macro wrote coverage files"
    );
    assert_eq!(stderr(&out).matches("warning: COVDIR").count(), 0);
    assert_eq!(
        find_profraw(&[&p.dir, &p.target]),
        Vec::<std::path::PathBuf>::new()
    );
}

#[test]
fn cargo_run_install_and_nextest() {
    let p = Project::example("cli");
    let cov = scratch("run-install-cov");
    let out = p.cargo_with(
        &["run", "-q", "--", "reverse", "abc"],
        &[("COVDIR", cov.as_ref())],
    );
    assert_eq!(stdout(&out), "cba\n");
    assert_eq!(CovDir::read(&cov).counters.len(), 1);

    let root = scratch("install-root");
    let out = p
        .cargo_cmd(&["install", "--path", ".", "--root"], true)
        .arg(&root)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert_success(&out, "cargo install");
    let installed = root.join("bin/cli");
    let cov = scratch("installed-cov");
    assert_success(
        &run(&installed, &["fib", "12"], Some(&cov)),
        "installed cli",
    );
    assert_eq!(
        CovDir::read(&cov).counters.len(),
        1,
        "an installed binary writes coverage too"
    );

    let cov = scratch("nextest-cov");
    p.cargo_with(&["nextest", "run"], &[("COVDIR", cov.as_ref())]);
    let dir = CovDir::read(&cov);
    // nextest runs each test in its own process: one file per test process
    // plus the cli runs made by the integration tests.
    assert!(
        dir.counters.len() >= 8,
        "{} counter files",
        dir.counters.len()
    );
    dir.assert_clean();
}

#[test]
fn release_lto_panic_abort_and_one_codegen_unit() {
    let p = Project::example("cli");
    let manifest = fs::read_to_string(p.dir.join("Cargo.toml")).unwrap();
    fs::write(
        p.dir.join("Cargo.toml"),
        format!(
            "{manifest}\n[profile.release]\nlto = true\npanic = \"abort\"\ncodegen-units = 1\n"
        ),
    )
    .unwrap();
    p.cargo(&["build", "--release"]);
    let exe = p.exe("release", "cli");
    let dir = files_after_run(&exe, &["classify", "5", "-5"]);
    assert_eq!(dir.counters.len(), 1);
    let cov = scratch("release-abort");
    let out = run(&exe, &["panic"], Some(&cov));
    assert_eq!(signal_of(out.status), Some(6));
    assert_eq!(CovDir::read(&cov).counters.len(), 1);
}

#[test]
fn default_target_dir_inside_the_project() {
    let p = Project::example("cli");
    let out = p
        .cargo_cmd(&["build"], true)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert_success(&out, "cargo build");
    assert_eq!(
        files_after_run(&p.dir.join("target/debug/cli"), &["help"])
            .counters
            .len(),
        1
    );
}

#[test]
fn paths_and_panic_messages_match_a_plain_build() {
    let plain = Project::example("cli");
    plain.cargo_plain(&["build"]);
    let wrapped = Project::example("cli");
    wrapped.cargo(&["build"]);
    let a = run(&plain.exe("debug", "cli"), &["panic"], None);
    let b = run(
        &wrapped.exe("debug", "cli"),
        &["panic"],
        Some(&scratch("pm")),
    );
    let panic_line = |s: String| {
        s.lines()
            .find(|l| l.contains("panicked at"))
            .map(|l| l.split(") ").last().unwrap().to_string())
    };
    assert_eq!(panic_line(stderr(&a)), panic_line(stderr(&b)));
    // The mirror never leaks into debug info or the binary.
    let bin = fs::read(wrapped.exe("debug", "cli")).unwrap();
    assert!(
        !contains(&bin, b".covwrap-mirror"),
        "mirror path found in the binary"
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn editing_a_module_rebuilds_exactly_as_without_covwrap() {
    let p = Project::example("workspace");
    p.cargo(&["build"]);
    let fresh = p.cargo(&["build"]);
    assert!(
        !stderr(&fresh).contains("Compiling"),
        "nothing changed, nothing rebuilt: {}",
        stderr(&fresh)
    );
    let lib = p.dir.join("wscore/src/lib.rs");
    let text = fs::read_to_string(&lib).unwrap();
    fs::write(&lib, format!("{text}\n// edited\n")).unwrap();
    let again = p.cargo(&["build"]);
    assert!(
        stderr(&again).contains("Compiling wscore"),
        "{}",
        stderr(&again)
    );
    // The dep-info cargo keeps names the real files, not the mirror.
    let mut found = false;
    for e in fs::read_dir(p.target.join("debug/deps")).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "d") {
            let d = fs::read_to_string(e.path()).unwrap();
            assert!(
                !d.contains(".covwrap-mirror"),
                "{}: {d}",
                e.path().display()
            );
            found |= d.contains("wscore/src/lib.rs");
        }
    }
    assert!(found);
}

#[test]
fn a_chained_wrapper_sees_every_compilation() {
    let p = Project::example("cli");
    let base = scratch("chain");
    let log = base.join("log");
    let script = base.join("logwrap");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    p.cargo_with(&["build"], &[("COVWRAP_RUSTC_WRAPPER", script.as_ref())]);
    let logged = fs::read_to_string(&log).unwrap();
    assert!(logged.lines().any(|l| l.contains("-vV")));
    assert!(logged
        .lines()
        .any(|l| l.contains("--crate-name cli") && l.contains("instrument-coverage")));
    assert_eq!(
        files_after_run(&p.exe("debug", "cli"), &["help"])
            .counters
            .len(),
        1
    );
}

/// The one covwrap error line of a build that must have failed.
fn refusal(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "the build should have failed");
    let err = stderr(out);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("covwrap: error:"))
        .collect();
    assert!(!lines.is_empty(), "no covwrap error in\n{err}");
    lines[0].to_string()
}

#[test]
fn toolchain_with_old_llvm_is_refused_with_one_line() {
    let p = Project::example("cli");
    let base = scratch("oldllvm");
    let script = base.join("fake-old-rustc");
    // Pretends to be a rustc built on LLVM 18 when asked for its version.
    fs::write(
        &script,
        "#!/bin/sh\nif [ \"$2\" = \"-vV\" ]; then \"$1\" -vV | sed 's/^LLVM version: .*/LLVM version: 18.1.7/'; exit 0; fi\nexec \"$@\"\n",
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let out = p
        .cargo_cmd(&["build"], true)
        .env("COVWRAP_RUSTC_WRAPPER", &script)
        .output()
        .unwrap();
    let line = refusal(&out);
    assert!(
        line.contains("LLVM 18.1.7") && line.contains("use rustc 1.82 or newer"),
        "{line}"
    );
    assert!(
        !p.exe("debug", "cli").exists(),
        "no uninstrumented binary was produced"
    );
}

#[test]
fn toolchain_without_profiler_runtime_is_refused_with_one_line() {
    let p = Project::example("cli");
    let sysroot = String::from_utf8(
        Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let host = String::from_utf8(Command::new("rustc").arg("-vV").output().unwrap().stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .unwrap();
    // A sysroot that is the real one minus profiler_builtins.
    let fake = scratch("sysroot");
    let real_lib = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(&host)
        .join("lib");
    let fake_lib = fake.join("lib/rustlib").join(&host).join("lib");
    fs::create_dir_all(&fake_lib).unwrap();
    for e in fs::read_dir(&real_lib).unwrap().flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .starts_with("libprofiler_builtins")
        {
            std::os::unix::fs::symlink(e.path(), fake_lib.join(e.file_name())).unwrap();
        }
    }
    let cache = scratch("sysroot-cache");
    let out = p
        .cargo_cmd(&["build"], true)
        .env("RUSTFLAGS", format!("--sysroot={}", fake.display()))
        .env("COVWRAP_CACHE_DIR", &cache)
        .output()
        .unwrap();
    let line = refusal(&out);
    assert!(
        line.contains("no profiler runtime (profiler_builtins)"),
        "{line}"
    );
}

#[test]
fn concurrent_builds_of_the_runtime_cache_all_succeed() {
    let base = scratch("race");
    let cache = base.join("cache");
    fs::write(base.join("lib.rs"), "pub fn f() -> u32 { 1 }\n").unwrap();
    let children: Vec<_> = (0..6)
        .map(|i| {
            let out = base.join(format!("out{i}"));
            fs::create_dir_all(&out).unwrap();
            Command::new(covwrap())
                .args([
                    "rustc",
                    "--crate-name",
                    "racer",
                    "--crate-type",
                    "rlib",
                    "--edition",
                    "2021",
                ])
                .arg(base.join("lib.rs"))
                .arg("--out-dir")
                .arg(&out)
                .arg(format!("-Ldependency={}", out.display()))
                .current_dir(&base)
                .env("COVWRAP_CACHE_DIR", &cache)
                .env_remove("CARGO_MANIFEST_DIR")
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let runtimes: Vec<_> = fs::read_dir(cache.join("runtime"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(
        runtimes.len(),
        1,
        "one cached runtime, no leftovers: {runtimes:?}"
    );
}

#[test]
fn sources_outside_the_workspace_keep_their_real_paths() {
    // A path dependency outside the workspace and a crates.io crate added
    // by COVWRAP_PKG: cargo gives rustc their absolute paths.
    let p = Project::bin(
        "inside",
        "fn main() {\n    let mut b = itoa::Buffer::new();\n    println!(\"{} {}\", outside::twice(21), b.format(7));\n}\n",
        "[dependencies]\noutside = { path = \"../outside\" }\nitoa = \"1\"\n",
    );
    let outside = p.dir.parent().unwrap().join("outside");
    fs::create_dir_all(outside.join("src")).unwrap();
    fs::write(
        outside.join("Cargo.toml"),
        "[package]\nname = \"outside\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    fs::write(
        outside.join("src/lib.rs"),
        "pub fn twice(x: u32) -> u32 {\n    x * 2\n}\n",
    )
    .unwrap();
    p.cargo_with(&["build"], &[("COVWRAP_PKG", "itoa".as_ref())]);
    let cov = scratch("outside-cov");
    assert_success(&run(&p.exe("debug", "inside"), &[], Some(&cov)), "inside");
    let lcov = Command::new(covdata_exe())
        .arg("lcov")
        .arg(format!("-i={}", cov.display()))
        .output()
        .unwrap();
    assert_success(&lcov, "covdata lcov");
    let files: Vec<String> = stdout(&lcov)
        .lines()
        .filter_map(|l| l.strip_prefix("SF:"))
        .map(str::to_string)
        .collect();
    assert!(
        files.iter().any(|f| f.ends_with("/outside/src/lib.rs")),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.contains("itoa-") && f.ends_with("/src/lib.rs")),
        "{files:?}"
    );
    for f in &files {
        assert!(Path::new(f).is_file(), "reported source {f} does not exist");
    }
    // Editing the outside crate rebuilds it, as without covwrap.
    fs::write(
        outside.join("src/lib.rs"),
        "pub fn twice(x: u32) -> u32 {\n    x + x\n}\n",
    )
    .unwrap();
    let again = p.cargo_with(&["build"], &[("COVWRAP_PKG", "itoa".as_ref())]);
    assert!(
        stderr(&again).contains("Compiling outside"),
        "{}",
        stderr(&again)
    );
}
