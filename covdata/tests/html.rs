//! `covdata html` on a real program (tests/programs/ex1, built with branch
//! coverage, two runs): the files it writes, checked against `covdata
//! lcov` and `percent` of the same COVDIR, and the report loaded from
//! file:// in headless Chromium, whose DOM after the page's script ran is
//! checked (totals, an uncovered line, sorting, filtering, hiding, the
//! jump to uncovered spots). Screenshots (light and dark) are kept under
//! the test's output directory, target/tmp/covdata-html/.

#[path = "html/browser.rs"]
mod browser;
mod common;
#[path = "html/dom.rs"]
mod dom;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use browser::{chromium, dom, screenshot, DevTools};
use common::*;
use dom::*;

const MAIN_RS: &str = include_str!("programs/ex1/src/main.rs");
const UTIL_RS: &str = include_str!("programs/ex1/src/util.rs");

/// `fn never_called() -> i32 { 42 }`: the body line is never run.
const UNCOVERED_LINE: u32 = 50;
/// `let _unused = |x: i32| x * 2;`: the line runs, the closure never does.
const PARTIAL_LINE: u32 = 75;

/// The test's output directory (kept after the run: screenshots).
fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("covdata-html")
}

struct Fixture {
    /// The program's directory (its sources, its compilation directory).
    dir: PathBuf,
    covdir: PathBuf,
    /// `covdata html` of `covdir`.
    report: PathBuf,
}

/// Builds ex1 with branch regions, runs it twice into a COVDIR and writes
/// its HTML report; once for all tests of this file.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = out_dir();
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("ex1");
        write_sources(&dir, &[("main.rs", MAIN_RS), ("util.rs", UTIL_RS)]);
        rustc_branch(
            &dir,
            &["-C", "codegen-units=4", "src/main.rs", "-o", "main"],
        );
        let bin = dir.join("main");
        let (covdir, _) = two_runs_covdir(&dir, &bin, &["-3", "0", "5", "7"], &["2"]);
        let report = root.join("htmlcov");
        html(&covdir, &report, &[]);
        Fixture {
            dir,
            covdir,
            report,
        }
    })
}

/// A fresh directory `dir` holding `src/NAME` for each (NAME, text).
fn write_sources(dir: &Path, files: &[(&str, &str)]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join("src").join(name), text).unwrap();
    }
}

/// `covdata html -i=COVDIR -o=OUT EXTRA...`, which must succeed; returns
/// its standard error.
fn html(covdir: &Path, out: &Path, extra: &[&str]) -> String {
    let input = format!("-i={}", covdir.display());
    let output = format!("-o={}", out.display());
    let mut args = vec!["html", input.as_str(), output.as_str()];
    args.extend(extra);
    let out = covdata(&args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "covdata {args:?}: {err}");
    err
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn report_matches_lcov_and_percent() {
    let f = fixture();
    let input = format!("-i={}", f.covdir.display());
    let index = read(&f.report.join("index.html"));
    for name in ["style.css", "report.js", ".covdata-html"] {
        assert!(f.report.join(name).is_file(), "{name} missing");
    }

    // Totals equal percent's; with branches, as the program has them.
    let percent = covdata_percent_totals(&covdata_ok(&["percent", &input]));
    let total = ratios(total_row(&index));
    let branches = percent.branches.expect("ex1 is built with branches");
    assert_eq!(
        total,
        [percent.lines, percent.regions, percent.functions, branches],
        "index total row vs percent"
    );
    assert_eq!(
        &ratios(&index[..index.find("<table").unwrap()])[..4],
        &total[..]
    );

    // One page per LCOV file, each with exactly LCOV's lines and counts.
    let lcov = lcov_lines(&covdata_ok(&["lcov", &input]));
    let pages = index_pages(&index);
    assert_eq!(pages.len(), lcov.len(), "{pages:?}");
    let on_disk = std::fs::read_dir(f.report.join("files")).unwrap().count();
    assert_eq!(on_disk, lcov.len());
    for (sf, lines) in &lcov {
        let display = sf
            .strip_prefix(&format!("{}/", f.dir.display()))
            .unwrap_or(sf);
        let page = read(&f.report.join("files").join(&pages[display]));
        assert_eq!(&page_counts(&page), lines, "{display}: page vs lcov DA");
    }

    // main.rs: a never-run line, a partly run line with the closure body
    // marked at its exact columns (rustc maps it to `x`, one column, as
    // llvm-cov's segments show), escaped names, one row per generic.
    let main = read(&f.report.join("files").join(&pages["src/main.rs"]));
    let (tag, body) = line_row(&main, UNCOVERED_LINE);
    assert_eq!(attr(&tag, "class"), Some("u"), "{tag}");
    assert!(body.starts_with("<th>50<td>0<td>"), "{body}");
    let (tag, body) = line_row(&main, PARTIAL_LINE);
    assert_eq!(attr(&tag, "class"), Some("p"), "{tag}");
    let col = MAIN_RS
        .lines()
        .nth(PARTIAL_LINE as usize - 1)
        .unwrap()
        .find("x * 2")
        .unwrap()
        + 1;
    assert!(
        body.contains(&format!("| <span class=z data-r=\"{col}\">x</span> * 2;")),
        "{body}"
    );
    assert_eq!(
        attr(&line_row(&main, 58).0, "class"),
        Some("c"),
        "fn main() runs"
    );
    assert!(
        main.contains("&lt;main::Circle as main::Shape&gt;::name"),
        "escaped names"
    );
    assert!(!main.contains("<main::Circle"), "unescaped name");
    let shows: Vec<_> = elements(&main, "tr")
        .into_iter()
        .filter(|(_, b)| b.contains(">main::show</a>"))
        .collect();
    assert_eq!(shows.len(), 1, "one row for the generic show::<T>");
    assert!(shows[0].1.ends_with("<td>2</td></tr>\n"), "{:?}", shows[0]);

    // Self-contained: nothing but relative links, no fetch().
    for (name, bytes) in files_of(&f.report) {
        let text = String::from_utf8(bytes).unwrap();
        for bad in ["http://", "https://", "fetch(", "XMLHttpRequest", "//cdn"] {
            assert!(!text.contains(bad), "{name} contains {bad}");
        }
    }
}

#[test]
fn output_is_deterministic_and_replaces_only_reports() {
    let f = fixture();
    let scratch = out_dir().join("determinism");
    let _ = std::fs::remove_dir_all(&scratch);
    let (a, b) = (scratch.join("a"), scratch.join("b"));
    html(&f.covdir, &a, &[]);
    html(&f.covdir, &b, &[]);
    let first = files_of(&a);
    assert_eq!(first, files_of(&b), "two runs differ");
    assert_eq!(first, files_of(&f.report), "differs from the fixture's run");

    // Replacing a report: stale pages go, nothing is left beside it.
    std::fs::write(a.join("files/stale.html"), "old").unwrap();
    html(&f.covdir, &a, &[]);
    assert_eq!(files_of(&a), first);
    let beside: Vec<String> = std::fs::read_dir(&scratch)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside.len(), 2, "{beside:?}");

    // A directory that is not a report is refused, untouched.
    let other = scratch.join("src");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("keep.rs"), "fn main() {}").unwrap();
    let input = format!("-i={}", f.covdir.display());
    let out = covdata(&["html", &input, &format!("-o={}", other.display())]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a covdata HTML report"), "{err}");
    assert!(other.join("keep.rs").exists());
    // -o is required.
    let out = covdata(&["html", &input]);
    assert_eq!(out.status.code(), Some(2));
    // A failed gate: the report is written, one line says why, exit 1.
    let gated = scratch.join("gated");
    let out = covdata(&[
        "html",
        &input,
        &format!("-o={}", gated.display()),
        "--fail-under-lines=99",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(files_of(&gated), first);
}

#[test]
fn writing_again_keeps_unchanged_pages_and_rewrites_the_rest() {
    use std::os::unix::fs::MetadataExt as _;
    let f = fixture();
    let scratch = out_dir().join("incremental");
    let _ = std::fs::remove_dir_all(&scratch);
    let report = scratch.join("htmlcov");
    html(&f.covdir, &report, &[]);
    let first = files_of(&report);
    // The inodes of the report's files but the marker, which is written
    // each time (the report keeps `first`'s files, as asserted each time).
    let inodes = |dir: &Path| -> BTreeMap<String, u64> {
        first
            .keys()
            .filter(|rel| *rel != ".covdata-html")
            .map(|rel| (rel.clone(), std::fs::metadata(dir.join(rel)).unwrap().ino()))
            .collect()
    };
    let before = inodes(&report);
    // The same inputs: every file is kept (the same inode), none rewritten.
    html(&f.covdir, &report, &[]);
    assert_eq!(files_of(&report), first);
    assert_eq!(inodes(&report), before);
    // A page edited by hand since (same length) is written again.
    let page = first
        .keys()
        .find(|k| k.starts_with("files/"))
        .unwrap()
        .clone();
    let mut edited = first[&page].clone();
    let at = edited.iter().position(|&b| b == b'<').unwrap();
    edited[at] = b'{';
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(report.join(&page), &edited).unwrap();
    html(&f.covdir, &report, &[]);
    assert_eq!(files_of(&report), first);
    let after = inodes(&report);
    assert_ne!(after[&page], before[&page], "{page} was kept");
    assert_eq!(after.len(), before.len());
    assert_eq!(
        after.iter().filter(|(k, v)| before[*k] != **v).count(),
        1,
        "only the edited page is written again"
    );
    // Other inputs: the report is what a fresh one of them is.
    let fewer = scratch.join("fewer");
    make_covdir(&fewer, &[f.dir.join("main")], &[f.dir.join("a.profraw")]);
    html(&fewer, &report, &[]);
    let fresh = scratch.join("fresh");
    html(&fewer, &fresh, &[]);
    let written = files_of(&report);
    assert_eq!(written, files_of(&fresh));
    assert_ne!(written, first, "one run fewer changes the counts");
}

#[test]
fn an_edited_source_renders_its_page_again_and_keeps_the_others() {
    use std::os::unix::fs::MetadataExt as _;
    let f = fixture();
    // The sources under a root of their own, so that one can be edited.
    let root = out_dir().join("edited");
    write_sources(&root, &[("main.rs", MAIN_RS), ("util.rs", UTIL_RS)]);
    let report = root.join("htmlcov");
    let root_flag = format!("--root={}", root.display());
    html(&f.covdir, &report, &[&root_flag]);
    let page_of = |name: &str| -> PathBuf {
        let index = read(&report.join("index.html"));
        let (_, page) = index_pages(&index)
            .into_iter()
            .find(|(display, _)| display.ends_with(name))
            .unwrap_or_else(|| panic!("no page for {name}"));
        report.join("files").join(page)
    };
    let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
    let (main_page, util_page) = (page_of("main.rs"), page_of("util.rs"));
    let (main_ino, util_ino) = (ino(&main_page), ino(&util_page));
    // The same counts, another text: a comment after the code.
    let edited = format!("{UTIL_RS}// edited: no code\n");
    std::fs::write(root.join("src/util.rs"), &edited).unwrap();
    html(&f.covdir, &report, &[&root_flag]);
    assert_eq!(ino(&main_page), main_ino, "main.rs's page is kept");
    assert_ne!(
        ino(&util_page),
        util_ino,
        "util.rs's page is rendered again"
    );
    assert!(read(&util_page).contains("edited:"));
    // Byte for byte what a fresh report of the edited sources is.
    let fresh = root.join("fresh");
    html(&f.covdir, &fresh, &[&root_flag]);
    assert_eq!(files_of(&report), files_of(&fresh));
}

#[test]
fn missing_source_gets_a_page_and_one_warning() {
    let f = fixture();
    // A copy of the program's directory without util.rs; --root points
    // there, so main.rs is read from the copy and util.rs is missing.
    let moved = out_dir().join("moved");
    let main_rs = MAIN_RS.replace("fn main()", "fn main( )");
    write_sources(&moved, &[("main.rs", &main_rs)]);
    let out = moved.join("htmlcov");
    let err = html(&f.covdir, &out, &[&format!("--root={}", moved.display())]);
    let warnings: Vec<&str> = err.lines().collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].starts_with("covdata: warning: ") && warnings[0].contains("util.rs"),
        "{err}"
    );
    let index = read(&out.join("index.html"));
    let pages: Vec<String> = index_pages(&index).into_values().collect();
    assert_eq!(pages.len(), 2);
    let texts: Vec<String> = pages
        .iter()
        .map(|p| read(&out.join("files").join(p)))
        .collect();
    let (missing, found): (Vec<&String>, Vec<&String>) =
        texts.iter().partition(|t| t.contains("id=\"missing\""));
    assert_eq!((missing.len(), found.len()), (1, 1));
    assert!(missing[0].contains("Source file not found"));
    assert!(
        !page_counts(missing[0]).is_empty(),
        "counts are still shown"
    );
    assert!(found[0].contains("fn main( )"), "main.rs read from --root");
}

#[test]
fn root_inside_the_build_directory_reads_other_files_where_built() {
    let f = fixture();
    // --root a directory of the build with no source in it: the sources
    // are outside it, shown at their absolute paths and read there, not
    // looked for under --root.
    let nested = f.dir.join("nested");
    std::fs::create_dir_all(&nested).unwrap();
    let out = out_dir().join("htmlcov-nested");
    let err = html(&f.covdir, &out, &[&format!("--root={}", nested.display())]);
    assert_eq!(err, "", "no source is missing");
    let pages = index_pages(&read(&out.join("index.html")));
    let main = f.dir.join("src/main.rs");
    let page = read(&out.join("files").join(&pages[main.to_str().unwrap()]));
    assert!(!page.contains("id=\"missing\""), "{page}");
    assert!(
        page.contains("fn never_called()"),
        "main.rs read where it was built"
    );
}

// ---- in a real browser (tests/html/browser.rs) ------------------------------

#[test]
fn browser_shows_sorts_filters_and_jumps() {
    let bin = chromium();
    let f = fixture();
    let index = f.report.join("index.html");
    let input = format!("-i={}", f.covdir.display());
    let percent = covdata_percent_totals(&covdata_ok(&["percent", &input]));

    // Sorted by line coverage, descending, through the fragment.
    let dom_sorted = dom(&bin, &index, "#sort=lines&dir=desc");
    assert!(
        dom_sorted.contains("data-col=\"lines\" aria-sort=\"descending\""),
        "the script did not run"
    );
    let rows = dom_file_rows(&dom_sorted);
    let pct = |r: &DomRow| r.2[0].0 as f64 / r.2[0].1 as f64;
    assert!(rows.len() == 2 && rows.iter().all(|r| !r.1), "{rows:?}");
    assert!(
        pct(&rows[0]) > pct(&rows[1]),
        "not sorted by lines: {rows:?}"
    );
    assert_eq!(rows[0].0, "src/util.rs", "{rows:?}");
    let dom_asc = dom(&bin, &index, "#sort=lines&dir=asc");
    let order: Vec<String> = dom_file_rows(&dom_asc).into_iter().map(|r| r.0).collect();
    assert_eq!(order, ["src/main.rs", "src/util.rs"]);
    assert_eq!(
        ratios(total_row(&dom_sorted))[..3],
        [percent.lines, percent.regions, percent.functions]
    );

    // Filter and hide-covered.
    let filtered = dom_file_rows(&dom(&bin, &index, "#q=util"));
    let shown: Vec<&str> = filtered
        .iter()
        .filter(|r| !r.1)
        .map(|r| r.0.as_str())
        .collect();
    assert_eq!(shown, ["src/util.rs"]);
    // The crate's name keeps all its files.
    let by_crate = dom_file_rows(&dom(&bin, &index, "#q=MAIN"));
    assert!(by_crate.iter().all(|r| !r.1), "{by_crate:?}");
    let none = dom(&bin, &index, "#q=no-such-file");
    assert!(dom_file_rows(&none).iter().all(|r| r.1));
    assert!(
        !none.contains("id=\"no-match\" hidden"),
        "no 'no match' line"
    );
    let hidden = dom_file_rows(&dom(&bin, &index, "#hide=1"));
    for (path, is_hidden, r) in &hidden {
        let full = r.iter().all(|(c, t)| c == t);
        assert_eq!(*is_hidden, full, "{path}: {r:?}");
    }

    // File page: the uncovered line is marked; jumping to the first
    // uncovered spot marks its rows as current.
    let pages = index_pages(&read(&index));
    let main = f.report.join("files").join(&pages["src/main.rs"]);
    let page = dom(&bin, &main, "#jump=1");
    let (tag, _) = line_row(&page, UNCOVERED_LINE);
    assert!(
        attr(&tag, "class").unwrap().split(' ').any(|c| c == "u"),
        "{tag}"
    );
    let current: Vec<u32> = elements(&page, "tr")
        .into_iter()
        .filter(|(t, _)| attr(t, "class").is_some_and(|c| c.split(' ').any(|c| c == "cur")))
        .map(|(t, _)| attr(t, "id").unwrap()[1..].parse().unwrap())
        .collect();
    let static_page = read(&main);
    let first_spot = elements(&static_page, "tr")
        .into_iter()
        .find(|(t, _)| matches!(attr(t, "class"), Some("u" | "p")))
        .map(|(t, _)| attr(t, "id").unwrap()[1..].parse::<u32>().unwrap())
        .unwrap();
    assert_eq!(current.first(), Some(&first_spot), "{current:?}");
    assert!(page.contains("id=\"spot\">1 of "), "spot counter");

    for dark in [false, true] {
        let theme = if dark { "dark" } else { "light" };
        let shots = out_dir().join("screenshots");
        screenshot(
            &bin,
            &index,
            500,
            &shots.join(format!("index-{theme}.png")),
            dark,
        );
        screenshot(
            &bin,
            &main,
            2300,
            &shots.join(format!("file-{theme}.png")),
            dark,
        );
    }
}

#[test]
fn browser_keys_jump_between_uncovered_spots() {
    let bin = chromium();
    let f = fixture();
    let pages = index_pages(&read(&f.report.join("index.html")));
    let main = f.report.join("files").join(&pages["src/main.rs"]);
    // The spots: runs of adjacent red or yellow lines, from the page itself.
    let page = read(&main);
    let mut spots: Vec<u32> = Vec::new();
    let mut previous = false;
    for (tag, _) in elements(&page, "tr") {
        let Some(line) = attr(tag, "id").and_then(|i| i.strip_prefix('L')) else {
            continue;
        };
        let bad = matches!(attr(tag, "class"), Some("u" | "p"));
        if bad && !previous {
            spots.push(line.parse().unwrap());
        }
        previous = bad;
    }
    assert!(spots.len() >= 3, "{spots:?}");

    let (mut dt, session) = DevTools::open(&bin, &main);
    let current =
        "(() => { const r = document.querySelector('tr.cur'); return r ? +r.id.slice(1) : 0; })()";
    assert_eq!(dt.eval(&session, current), 0, "no spot before a key");
    // A key event may be handled a moment after dispatchKeyEvent returns
    // (the renderer is busy under load): eval_until waits for the spot.
    dt.press(&session, "j");
    assert_eq!(dt.eval_until(&session, current, spots[0]), spots[0]);
    dt.press(&session, "j");
    assert_eq!(dt.eval_until(&session, current, spots[1]), spots[1]);
    dt.press(&session, "n");
    assert_eq!(dt.eval_until(&session, current, spots[2]), spots[2]);
    dt.press(&session, "k");
    assert_eq!(dt.eval_until(&session, current, spots[1]), spots[1]);
    dt.press(&session, "p");
    assert_eq!(dt.eval_until(&session, current, spots[0]), spots[0]);
    // Hovering a line shows its hit count.
    let tip = format!(
        "(() => {{ const c = document.getElementById('L{UNCOVERED_LINE}').cells[2]; const b = c.getBoundingClientRect();
           c.dispatchEvent(new MouseEvent('mousemove', {{bubbles: true, clientX: b.left + 5, clientY: b.top + 3}}));
           return document.getElementById('tip').textContent; }})()"
    );
    assert_eq!(
        dt.eval(&session, &tip),
        format!("line {UNCOVERED_LINE}: 0 hits")
    );
    let _ = dt.call(None, "Browser.close", serde_json::json!({}));
}

#[test]
fn browser_controls_answer_clicks_and_typing() {
    let bin = chromium();
    let f = fixture();
    let index = f.report.join("index.html");
    let (mut dt, session) = DevTools::open(&bin, &index);
    // The file rows shown, top to bottom.
    let shown = "Array.from(document.querySelectorAll('#index tbody tr.file')).filter(r => !r.classList.contains('hidden')).map(r => r.dataset.path).join(' ')";
    let sorted = "document.querySelector('th[data-col=lines]').getAttribute('aria-sort')";
    assert_eq!(dt.eval(&session, shown), "src/main.rs src/util.rs");

    // A click on the Lines header sorts ascending, a second descending.
    dt.click(&session, "th[data-col=lines]");
    assert_eq!(dt.eval_until(&session, sorted, "ascending"), "ascending");
    assert_eq!(dt.eval(&session, shown), "src/main.rs src/util.rs");
    dt.click(&session, "th[data-col=lines]");
    assert_eq!(dt.eval_until(&session, sorted, "descending"), "descending");
    assert_eq!(dt.eval(&session, shown), "src/util.rs src/main.rs");

    // Typing into the filter box keeps the matching files.
    dt.click(&session, "#filter");
    dt.call(
        Some(&session),
        "Input.insertText",
        serde_json::json!({"text": "util"}),
    );
    assert_eq!(dt.eval_until(&session, shown, "src/util.rs"), "src/util.rs");
    assert!(
        dt.eval(&session, "location.hash")
            .as_str()
            .is_some_and(|h| h.contains("q=util")),
        "the filter is not in the URL"
    );
    dt.eval(
        &session,
        "(() => { const f = document.getElementById('filter'); f.select(); return true; })()",
    );
    dt.press_named(&session, "Backspace", 8);
    assert_eq!(
        dt.eval_until(&session, shown, "src/util.rs src/main.rs"),
        "src/util.rs src/main.rs"
    );

    // The checkbox hides the fully covered files: exactly those whose
    // every metric is complete.
    let full = "Array.from(document.querySelectorAll('#index tbody tr.file')).filter(r => Array.from(r.cells).slice(1).every(c => c.dataset.c === c.dataset.t)).map(r => r.dataset.path).join(' ')";
    let full = dt.eval(&session, full).as_str().unwrap().to_string();
    let all = ["src/util.rs", "src/main.rs"];
    let kept: Vec<&str> = all
        .iter()
        .copied()
        .filter(|p| !full.split(' ').any(|f| f == *p))
        .collect();
    dt.click(&session, "#hide-covered");
    assert_eq!(
        dt.eval_until(&session, shown, kept.join(" ")),
        kept.join(" ")
    );
    dt.click(&session, "#hide-covered");
    assert_eq!(
        dt.eval_until(&session, shown, "src/util.rs src/main.rs"),
        "src/util.rs src/main.rs"
    );

    // The fold triangle of the crate row hides its files, and shows them
    // again.
    let folder = "#index tbody tr.crate .tw";
    dt.click(&session, folder);
    assert_eq!(dt.eval_until(&session, shown, ""), "");
    dt.click(&session, folder);
    assert_eq!(
        dt.eval_until(&session, shown, "src/util.rs src/main.rs"),
        "src/util.rs src/main.rs"
    );

    // Light and dark themes: the preference swaps the page's colours.
    let colours = "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color].join(' ')";
    let mut seen = Vec::new();
    for scheme in ["light", "dark"] {
        dt.call(
            Some(&session),
            "Emulation.setEmulatedMedia",
            serde_json::json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
        );
        seen.push(dt.eval(&session, colours).as_str().unwrap().to_string());
    }
    assert_ne!(seen[0], seen[1], "light and dark look the same: {seen:?}");
    assert!(
        seen[0].starts_with("rgb(255, 255, 255)"),
        "light: {}",
        seen[0]
    );
    let _ = dt.call(None, "Browser.close", serde_json::json!({}));
}
