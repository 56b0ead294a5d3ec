//! The everyday loop: run, edit, rebuild, run again into the same COVDIR.
//! Reports must show the new build for the edited file, still count the
//! old build's runs of the unchanged file, and say so in one line.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::support::*;

const MANIFEST: &str = "[package]\nname = \"edit\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[lib]\nname = \"editlib\"\n";

/// Unchanged between the builds.
const LIB: &str = "pub fn double(x: i64) -> i64 {
    if x > 1000 {
        x * 2
    } else {
        x + x
    }
}
";

/// The end of `describe` and `main`, the same in both builds.
macro_rules! main_tail {
    () => {
        "        \"small\"
    } else {
        \"large\"
    }
}

fn main() {
    let n: i64 = std::env::args().nth(1).unwrap().parse().unwrap();
    println!(\"{} {}\", describe(n), editlib::double(n));
}
"
    };
}

const MAIN_V1: &str = concat!(
    "fn describe(n: i64) -> &'static str {
    if n < 10 {
",
    main_tail!()
);

/// The edit: a new first line shifts every function, and `describe`
/// gains a branch.
const MAIN_V2: &str = concat!(
    "// Describes numbers.
fn describe(n: i64) -> &'static str {
    if n < 0 {
        \"negative\"
    } else if n < 10 {
",
    main_tail!()
);

fn covdata(args: &[&str]) -> Output {
    std::process::Command::new(covdata_exe())
        .args(args)
        .output()
        .unwrap()
}

fn report(cmd: &str, dir: &Path, extra: &[&str]) -> (String, String) {
    let input = format!("-i={}", dir.display());
    let mut args = vec![cmd, input.as_str()];
    args.extend_from_slice(extra);
    let out = covdata(&args);
    assert_success(&out, &format!("covdata {cmd}"));
    (stdout(&out), stderr(&out))
}

/// The LCOV records of one source file (`SF:` to `end_of_record`).
fn lcov_record(lcov: &str, file: &str) -> String {
    let start = lcov
        .find(&format!("SF:{file}\n"))
        .unwrap_or_else(|| panic!("no record for {file} in\n{lcov}"));
    let end = start + lcov[start..].find("end_of_record\n").unwrap();
    lcov[start..end].to_string()
}

/// textfmt lines of one file (paths are relative to the project).
fn textfmt_lines(text: &str, file: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{file}:")))
        .map(str::to_string)
        .collect()
}

#[test]
fn edit_rebuild_rerun_reports_the_new_build_and_says_so() {
    let p = Project::bin("edit", MAIN_V1, "");
    fs::write(p.dir.join("Cargo.toml"), MANIFEST).unwrap();
    fs::write(p.dir.join("src/lib.rs"), LIB).unwrap();
    let exe = p.exe("debug", "edit");
    let mixed = scratch("rebuild-mixed");
    let only_new = scratch("rebuild-new");
    let new_both = scratch("rebuild-new-both");

    p.cargo(&["build"]);
    assert_success(&run(&exe, &["5"], Some(&mixed)), "old build, 5");
    fs::write(p.dir.join("src/main.rs"), MAIN_V2).unwrap();
    p.cargo(&["build"]);
    assert_success(&run(&exe, &["50"], Some(&mixed)), "new build, 50");
    assert_success(&run(&exe, &["50"], Some(&only_new)), "new build, 50");
    // The old build's run again, made by the new build: what the
    // unchanged library's counts must add up to.
    assert_success(&run(&exe, &["5"], Some(&new_both)), "new build, 5");
    assert_success(&run(&exe, &["50"], Some(&new_both)), "new build, 50");
    assert_eq!(
        CovDir::read(&mixed).metas.len(),
        2,
        "two builds in one COVDIR"
    );

    let warning = "covdata: warning: crate edit: 1 older build set aside for 1 file that a newer build changed (each file is reported from the newest build that has it; --all-builds counts every build)\n";
    // Line coverage does not depend on counts: the library lines both
    // runs reach are covered either way.
    for cmd in ["percent", "func"] {
        let (out, err) = report(cmd, &mixed, &[]);
        assert_eq!(err, warning, "{cmd}");
        assert_eq!(out, report(cmd, &only_new, &[]).0, "{cmd}");
    }
    let main_rs = p.dir.join("src/main.rs").display().to_string();
    let lib_rs = p.dir.join("src/lib.rs").display().to_string();
    let (lcov, err) = report("lcov", &mixed, &[]);
    assert_eq!(err, warning);
    let (lcov_new, _) = report("lcov", &only_new, &[]);
    let (lcov_both, _) = report("lcov", &new_both, &[]);
    assert_eq!(
        lcov_record(&lcov, &main_rs),
        lcov_record(&lcov_new, &main_rs)
    );
    assert_eq!(
        lcov_record(&lcov, &lib_rs),
        lcov_record(&lcov_both, &lib_rs)
    );
    assert!(
        lcov_record(&lcov, &lib_rs).contains("DA:5,2"),
        "both runs count in the library"
    );
    let (text, err) = report("textfmt", &mixed, &[]);
    assert_eq!(err, warning);
    let (text_new, _) = report("textfmt", &only_new, &[]);
    let (text_both, _) = report("textfmt", &new_both, &[]);
    assert_eq!(
        textfmt_lines(&text, "src/main.rs"),
        textfmt_lines(&text_new, "src/main.rs")
    );
    assert_eq!(
        textfmt_lines(&text, "src/lib.rs"),
        textfmt_lines(&text_both, "src/lib.rs")
    );

    // --all-builds: llvm-cov's rule, both line maps, no warning.
    let (all, err) = report("lcov", &mixed, &["--all-builds"]);
    assert_eq!(err, "");
    assert_ne!(
        lcov_record(&all, &main_rs),
        lcov_record(&lcov_new, &main_rs)
    );

    // merge keeps both builds and says the same line; its output reports
    // the same; --pcombine applies the rule and reports the same.
    let merged = scratch("rebuild-merged").join("out");
    let out = covdata(&[
        "merge",
        &format!("-i={}", mixed.display()),
        &format!("-o={}", merged.display()),
    ]);
    assert_success(&out, "merge");
    assert_eq!(stderr(&out), warning);
    assert_eq!(
        report("lcov", &merged, &[]),
        (lcov.clone(), warning.to_string())
    );
    let all_merged = scratch("rebuild-merged-all").join("out");
    let out = covdata(&[
        "merge",
        "--all-builds",
        &format!("-i={}", mixed.display()),
        &format!("-o={}", all_merged.display()),
    ]);
    assert_success(&out, "merge --all-builds");
    assert_eq!(stderr(&out), "");
    let combined = scratch("rebuild-pcombine").join("out");
    let out = covdata(&[
        "merge",
        "--pcombine",
        &format!("-i={}", mixed.display()),
        &format!("-o={}", combined.display()),
    ]);
    assert_success(&out, "merge --pcombine");
    assert_eq!(stderr(&out), warning);
    assert_eq!(report("lcov", &combined, &[]).0, lcov);
    // intersect of a directory with itself is that directory.
    let same = scratch("rebuild-intersect").join("out");
    let out = covdata(&[
        "intersect",
        &format!("-i={},{}", mixed.display(), mixed.display()),
        &format!("-o={}", same.display()),
    ]);
    assert_success(&out, "intersect");
    assert_eq!(stderr(&out), warning);
    assert_eq!(report("lcov", &same, &[]).0, lcov);
}

#[test]
fn rebuilding_unchanged_code_keeps_one_meta_file_and_says_nothing() {
    let p = Project::bin("same", "fn main() {\n    println!(\"same\");\n}\n", "");
    let exe = p.exe("debug", "same");
    let cov = scratch("rebuild-same");
    p.cargo(&["build"]);
    assert_success(&run(&exe, &[], Some(&cov)), "first build");
    // A new link of the same code, later: another build time, same H.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    fs::File::options()
        .write(true)
        .open(p.dir.join("src/main.rs"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let before = fs::metadata(&exe).unwrap().modified().unwrap();
    p.cargo(&["build"]);
    assert_ne!(
        fs::metadata(&exe).unwrap().modified().unwrap(),
        before,
        "relinked"
    );
    assert_success(&run(&exe, &[], Some(&cov)), "second build");
    let dir = CovDir::read(&cov);
    assert_eq!(dir.metas.len(), 1, "identical builds share one meta file");
    let (out, err) = report("percent", &cov, &[]);
    assert_eq!(err, "");
    assert!(out.contains("100.00% (3/3)"), "{out}");
}
