//! `covdata diff` on a real git repository: a cargo project committed on
//! `main`, a branch that changes a function (some added lines run, some do
//! not, one helper never runs), uncommitted changes on top (a modified
//! `main`, a staged new file the binary does not compile, a README), built
//! with covwrap and run. The expected numbers are worked out by hand below
//! from llvm-cov's line rules (a line's count is the largest count of a
//! region starting on it, else the count of the region it continues).

use std::path::{Path, PathBuf};
use std::process::Command;

use covdata::diff::{self, coverage::FileCoverage, ChangeSource};
use covdata::model::summary::Ratio;
use covdata::report::{Context, ReportOptions};

use crate::support::*;

const V1: &str = r#"fn classify(n: i32) -> &'static str {
    if n < 0 {
        return "negative";
    }
    "non-negative"
}

fn main() {
    let n: i32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    println!("{} {}", classify(n), util::greet());
}

mod util;
"#;

/// What V2 and V3 share: the branch's `classify` and helper, and `main`
/// up to its last statement.
macro_rules! branch_head {
    () => {
        r#"fn classify(n: i32) -> &'static str {
    if n < 0 {
        return "negative";
    }
    // Doubling first keeps the threshold readable.
    let doubled = n * 2;
    let big = doubled > 2000;
    if big { "big" } else { "non-negative" }
}

#[allow(dead_code)]
fn unused_helper(x: i32) -> i32 {
    x + 1
}

fn main() {
    let n: i32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    println!("{} {}", classify(n), util::greet());
"#
    };
}

/// The branch's commit: `classify` changed, a helper added.
const V2: &str = concat!(
    branch_head!(),
    r#"}

mod util;
"#
);

/// Uncommitted on top of the branch: a new branch in `main`.
const V3: &str = concat!(
    branch_head!(),
    r#"    if n > 10 {
        println!("more than ten");
    }
}

mod util;
"#
);

/// Unchanged by the branch.
const UTIL_RS: &str = "pub fn greet() -> &'static str {\n    \"hi\"\n}\n";

/// Staged, never compiled (no `mod extra;`): no coverage data.
const EXTRA_RS: &str = "// Not part of the build yet.\npub fn extra() -> u32 {\n\n    7\n}\n";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git is required");
    assert_success(&out, &format!("git {}", args.join(" ")));
    stdout(&out)
}

/// The repository (after all changes), its build, and a COVDIR of one run
/// with argument 5.
struct Repo {
    project: Project,
    covdir: PathBuf,
}

/// Built once for the tests here.
fn repo() -> &'static Repo {
    static REPO: std::sync::OnceLock<Repo> = std::sync::OnceLock::new();
    REPO.get_or_init(build_repo)
}

fn build_repo() -> Repo {
    let project = Project::bin("difft", V1, "");
    let dir = &project.dir;
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join(".gitignore"), "target\n").unwrap();
    std::fs::write(dir.join("README.md"), "difft\n").unwrap();
    std::fs::write(dir.join("src/util.rs"), UTIL_RS).unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "v1"]);
    git(dir, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(dir.join("src/main.rs"), V2).unwrap();
    git(dir, &["commit", "-q", "-am", "v2"]);
    // Uncommitted: modified main.rs, a staged new file, a README change.
    std::fs::write(dir.join("src/main.rs"), V3).unwrap();
    std::fs::write(dir.join("src/extra.rs"), EXTRA_RS).unwrap();
    git(dir, &["add", "src/extra.rs"]);
    std::fs::write(dir.join("README.md"), "difft\n\nchanged\n").unwrap();
    project.cargo(&["build", "-q"]);
    let covdir = project.dir.parent().unwrap().join("cov");
    std::fs::create_dir_all(&covdir).unwrap();
    let out = run(&project.exe("debug", "difft"), &["5"], Some(&covdir));
    assert_success(&out, "difft 5");
    Repo { project, covdir }
}

fn ratio(covered: u64, total: u64) -> Ratio {
    Ratio { covered, total }
}

#[test]
fn changed_lines_since_the_merge_base_with_uncommitted_changes() {
    let r = repo();
    let cov = covdata::load_coverage(std::slice::from_ref(&r.covdir), false).unwrap();
    let ctx = Context::new(&cov, ReportOptions::default());
    let changes = diff::changes(&ChangeSource::Git {
        dir: &r.project.dir,
        base: "main",
    })
    .unwrap();
    let anchor = diff::anchor(None, &changes, &ctx);
    let patch = diff::coverage::patch_coverage(&ctx, &changes.files, &anchor);

    // git's -U0 diff of src/main.rs against main (V1) adds lines 5-13
    // (`"non-negative"` became lines 5-8; the old closing `}` pairs with
    // line 14, so 9-13 are new) and 19-21. With n = 5, by llvm-cov's rules:
    //   5  // comment                          not mapped
    //   6  let doubled = n * 2;                1  covered
    //   7  let big = doubled > 2000;           1  covered
    //   8  if big { "big" } else { ... }       1  covered: "big" did not run,
    //                                             but the line takes the largest
    //                                             count of a region starting on it
    //   9  }                                    1  classify's closing region
    //  10  (blank)                              not mapped
    //  11  #[allow(dead_code)]                  not mapped
    //  12  fn unused_helper(x: i32) -> i32 {   0  the function never ran
    //  13      x + 1                            0
    //  19  if n > 10 {                         1  covered (uncommitted)
    //  20      println!("more than ten");      0
    //  21  }                                    1  an `if` without `else` gets a
    //                                             region for the skipped path right
    //                                             after the brace, count 1 here
    // → 9 coverable, 6 covered, uncovered 12-13 and 20.
    // src/extra.rs (staged, not compiled): no coverage data, so its code
    // lines count as uncovered: 1 comment (no), 2 `pub fn` (yes), 3 blank
    // (no), 4 `7` (yes), 5 `}` (yes) → 3 coverable, 0 covered.
    // README.md: not a Rust source. Total: 6 of 12, 50%.
    assert_eq!(
        patch.files,
        [
            FileCoverage {
                path: "src/extra.rs".into(),
                has_data: false,
                lines: ratio(0, 3),
                uncovered: vec![(2, 2), (4, 5)],
            },
            FileCoverage {
                path: "src/main.rs".into(),
                has_data: true,
                lines: ratio(6, 9),
                uncovered: vec![(12, 13), (20, 20)],
            },
        ]
    );
    assert_eq!(patch.total, ratio(6, 12));
    assert_eq!(patch.not_rust, ["README.md"]);
    assert!(patch.nothing_matched.is_none());
    assert_eq!(diff::gate(&patch, 50.0), None, "50% passes --fail-under=50");
    assert_eq!(
        diff::gate(&patch, 90.0).unwrap(),
        "coverage of changed lines 50.00% (6/12) is below --fail-under=90"
    );
    let render = |format| {
        let mut out = Vec::new();
        diff::render::write_patch(&patch, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert_eq!(
        render(diff::render::Format::Markdown),
        "\
### Coverage of changed lines: 50.00% (6/12)

| File | Changed lines | Covered | Coverage | Uncovered lines |
|---|---:|---:|---:|---|
| `src/extra.rs` | 3 | 0 | 0.00% | 2,4-5 (no coverage data) |
| `src/main.rs` | 9 | 6 | 66.67% | 12-13,20 |
| **Total** | **12** | **6** | **50.00%** | |

- files marked (no coverage data) are not in the coverage data: their changed code lines count as uncovered
- not Rust sources: README.md
"
    );
    assert_eq!(
        render(diff::render::Format::Text),
        "\
file          changed  covered  percent  uncovered lines
src/extra.rs  3        0        0.00%    2,4-5 (no coverage data)
src/main.rs   9        6        66.67%   12-13,20
total         12       6        50.00%
files marked (no coverage data) are not in the coverage data: their changed code lines count as uncovered
not Rust sources: README.md
"
    );
    let json = render(diff::render::Format::Json);
    for part in [
        "{\n  \"files\": [\n    {\n      \"path\": \"src/extra.rs\",\n      \"has_coverage_data\": false,\n      \"coverable\": 3,\n      \"covered\": 0,\n      \"percent\": 0.0,\n      \"uncovered\": [",
        "\"path\": \"src/main.rs\",\n      \"has_coverage_data\": true,\n      \"coverable\": 9,\n      \"covered\": 6,",
        "\"total\": {\n    \"coverable\": 12,\n    \"covered\": 6,\n    \"percent\": 50.0\n  },",
        "\"not_rust\": [\n      \"README.md\"\n    ]",
        "\"warning\": null\n}\n",
    ] {
        assert!(json.contains(part), "{part}\nnot in\n{json}");
    }
    // The same numbers through `git diff` written to a file.
    let merge_base = changes.merge_base.clone().unwrap();
    let text = git(&r.project.dir, &["diff", &merge_base]);
    let patch_file = r.project.dir.parent().unwrap().join("change.patch");
    std::fs::write(&patch_file, text).unwrap();
    let from_file = diff::changes(&ChangeSource::DiffFile(&patch_file)).unwrap();
    let root = r.project.dir.display().to_string();
    let again = diff::coverage::patch_coverage(&ctx, &from_file.files, &root);
    assert_eq!(again, patch);
    // A wrong root matches nothing, and says so.
    let lost = diff::coverage::patch_coverage(&ctx, &from_file.files, "/elsewhere");
    let msg = lost.nothing_matched.unwrap();
    assert!(
        msg.starts_with("none of the 2 changed Rust files is in the coverage data: src/extra.rs was looked up as /elsewhere/src/extra.rs"),
        "{msg}"
    );
    assert!(msg.contains("--root"), "{msg}");
}

/// goc's local diff: the same build run once (base) and three times (new).
#[test]
fn baseline_compares_per_file_coverage() {
    let r = repo();
    let again = r.project.dir.parent().unwrap().join("cov-more");
    std::fs::create_dir_all(&again).unwrap();
    for arg in ["5", "-3", "20"] {
        let out = run(&r.project.exe("debug", "difft"), &[arg], Some(&again));
        assert_success(&out, "difft");
    }
    let base = covdata::load_coverage(std::slice::from_ref(&r.covdir), false).unwrap();
    let new = covdata::load_coverage(&[again], false).unwrap();
    let (b, n) = (
        Context::new(&base, ReportOptions::default()),
        Context::new(&new, ReportOptions::default()),
    );
    let cmp = diff::baseline::compare(&b, &n);
    // Function-view lines of src/main.rs (llvm-cov report's line count):
    // classify 1-4,6-9 (8), unused_helper 12-14 (3), main 16-22 (7), its
    // closure on line 17 (1): 19. With n = 5 only, line 3 (`return
    // "negative"`), unused_helper and line 20 (`println!("more than ten")`)
    // did not run: 19 - 1 - 3 - 1 = 14. With -3 and 20 as well, only
    // unused_helper did not: 16. src/util.rs (greet, 3 lines, always run)
    // did not change and has no row.
    assert_eq!(
        cmp.rows,
        [diff::baseline::BaselineRow {
            path: "src/main.rs".into(),
            base: Some(ratio(14, 19)),
            new: Some(ratio(16, 19)),
        }]
    );
    assert_eq!(cmp.base_total, ratio(17, 22));
    assert_eq!(cmp.new_total, ratio(19, 22));
    let mut text = Vec::new();
    diff::render::write_baseline(&cmp, diff::render::Format::Text, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    // The command prints the same.
    let cli = covdata_in(
        &r.project.dir,
        &[
            "diff",
            &format!(
                "-i={}",
                r.project.dir.parent().unwrap().join("cov-more").display()
            ),
            &format!("--baseline={}", r.covdir.display()),
        ],
        None,
    );
    assert_success(&cli, "covdata diff --baseline");
    assert_eq!(stdout(&cli), text);
    assert_eq!(
        text,
        "\
file         base            new             delta
src/main.rs  73.68% (14/19)  84.21% (16/19)  +10.53%
total        77.27% (17/22)  86.36% (19/22)  +9.09%
"
    );
}

/// `covdata diff` as typed, in the repository.
fn covdata_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(covdata_exe())
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn the_diff_command_gates_reads_stdin_and_explains_mismatches() {
    let r = repo();
    let dir = &r.project.dir;
    let input = format!("-i={}", r.covdir.display());
    let out = covdata_in(
        dir,
        &[
            "diff",
            &input,
            "--base=main",
            "--format=markdown",
            "--fail-under=90",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("### Coverage of changed lines: 50.00% (6/12)\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        stderr(&out),
        "covdata: diff: coverage of changed lines 50.00% (6/12) is below --fail-under=90\n"
    );
    let passing = covdata_in(
        dir,
        &["diff", &input, "--base=main", "--fail-under=50"],
        None,
    );
    assert_success(&passing, "covdata diff --fail-under=50");
    let text = stdout(&passing);
    assert!(
        text.contains("\ntotal         12       6        50.00%\n"),
        "{text}"
    );

    // The same change as a unified diff on standard input.
    let merge_base = git(dir, &["merge-base", "main", "HEAD"]);
    let patch = git(dir, &["diff", merge_base.trim()]);
    let root = format!("--root={}", dir.display());
    let piped = covdata_in(dir, &["diff", &input, "--diff-file=-", &root], Some(&patch));
    assert_success(&piped, "covdata diff --diff-file=-");
    assert_eq!(stdout(&piped), text);
    // The same diff from a file, as JSON, into -o: nothing on standard
    // output, the file written with the same totals.
    let patch_file = r.covdir.with_file_name("change.patch");
    std::fs::write(&patch_file, &patch).unwrap();
    let json_path = r.covdir.with_file_name("diff.json");
    let _ = std::fs::remove_file(&json_path);
    let from_file = covdata_in(
        dir,
        &[
            "diff",
            &input,
            &format!("--diff-file={}", patch_file.display()),
            &root,
            "--format=json",
            &format!("-o={}", json_path.display()),
        ],
        None,
    );
    assert_success(
        &from_file,
        "covdata diff --diff-file=FILE --format=json -o=FILE",
    );
    assert_eq!(stdout(&from_file), "");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(report["total"]["coverable"], 12, "{report}");
    assert_eq!(report["total"]["covered"], 6, "{report}");
    assert_eq!(report["total"]["percent"], 50.0, "{report}");
    // A relative root is taken from the current directory.
    let dotted = covdata_in(
        dir,
        &["diff", &input, "--diff-file=-", "--root=."],
        Some(&patch),
    );
    assert_eq!(stdout(&dotted), text, "{}", stderr(&dotted));

    // Paths that match nothing: said on standard error, and every changed
    // line counts as uncovered.
    let lost = covdata_in(
        dir,
        &["diff", &input, "--diff-file=-", "--root=/elsewhere"],
        Some(&patch),
    );
    assert!(
        stderr(&lost).contains(
            "covdata: diff: warning: none of the 2 changed Rust files is in the coverage data"
        ),
        "{}",
        stderr(&lost)
    );

    // Bad input and bad usage.
    let bad = covdata_in(dir, &["diff", &input, "--base=no-such-rev"], None);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(
        err.contains("git merge-base failed") && err.contains("no-such-rev"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let garbage = covdata_in(
        dir,
        &["diff", &input, "--diff-file=-"],
        Some("@@ -1 +1 @@\n+x\n"),
    );
    assert_eq!(garbage.status.code(), Some(1));
    assert_eq!(
        stderr(&garbage),
        "covdata: standard input: line 1: hunk before any ---/+++ file header\n"
    );
    let usage = covdata_in(
        dir,
        &[
            "diff",
            &input,
            &format!("--baseline={}", r.covdir.display()),
            "--fail-under=1",
        ],
        None,
    );
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
    let none = covdata_in(dir, &["diff", &input], None);
    assert_eq!(none.status.code(), Some(2));
}
