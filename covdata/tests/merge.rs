//! `covdata merge`, `subtract`, `intersect` and multi-module pods, on real
//! programs built with `rustc -C instrument-coverage`: hand-checked
//! results on a tiny program, reports of merged and combined outputs equal
//! to reports of their inputs (and to llvm-cov's), the LLVM mapping
//! encoder against real mappings, determinism, `--pkg`, bad inputs.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use covwrap_rt::format::counters::{encode, CountersFile, CountersHeader};
use covwrap_rt::format::defs::{counter_flags, end_reason};
use covwrap_rt::format::meta::{encode_modules, MetaFile};
use covwrap_rt::format::names::{counters_file_name, meta_file_name};

const CLASSIFY_RS: &str = r#"fn classify(n: i32) -> &'static str {
    if n < 0 { return "negative"; }
    if n == 0 {
        "zero"
    } else {
        "positive"
    }
}

fn main() {
    for a in std::env::args().skip(1) {
        let n: i32 = a.parse().unwrap();
        println!("{}", classify(n));
    }
}
"#;

/// A COVDIR `dir` with one run of `bin` per argument list.
fn covdir_of(s: &Scratch, dir: &str, bin: &Path, runs: &[&[&str]]) -> PathBuf {
    let covdir = s.path(dir);
    let mut profraws = Vec::new();
    for (i, args) in runs.iter().enumerate() {
        let p = s.path(&format!("{dir}-{i}.profraw"));
        run_profiled(bin, args, &p);
        profraws.push(p);
    }
    make_covdir(&covdir, &[bin.to_path_buf()], &profraws);
    covdir
}

fn input(dir: &Path) -> String {
    format!("-i={}", dir.display())
}

fn output(dir: &Path) -> String {
    format!("-o={}", dir.display())
}

/// `textfmt` lines of one file (without the mode line), paths relative.
fn regions(covdir: &Path, root: &Path) -> Vec<String> {
    covdata_ok(&[
        "textfmt",
        &input(covdir),
        &format!("--root={}", root.display()),
    ])
    .lines()
    .skip(1)
    .map(String::from)
    .collect()
}

/// `DA` and `BRDA` lines of the LCOV of `covdir`.
fn lines_and_branches(covdir: &Path) -> Vec<String> {
    covdata_ok(&["lcov", &input(covdir)])
        .lines()
        .filter(|l| l.starts_with("DA:") || l.starts_with("BRDA:"))
        .map(String::from)
        .collect()
}

/// Hand-checked: `classify` run with -5 and 3 (A) and with 0 and 7 (B).
///
/// Counters: c0 entry, c1 `return "negative"`, c2 `"zero"`; the region
/// of `n == 0` is the expression c0 - c1 and `"positive"` is
/// (c0 - c1) - c2. A: c = [2, 1, 0]; B: c = [2, 0, 1].
#[test]
fn subtract_and_intersect_by_hand() {
    let s = Scratch::new("ops-hand");
    let bin = build_branchy(&s, "main", CLASSIFY_RS);
    let a = covdir_of(&s, "a", &bin, &[&["-5", "3"]]);
    let b = covdir_of(&s, "b", &bin, &[&["0", "7"]]);
    let root = &s.dir;

    let classify = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .filter(|l| {
                let line: u32 = l[l.find(':').unwrap() + 1..]
                    .split('.')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                line <= 8
            })
            .collect()
    };
    // The inputs, as covdata (and llvm-cov) report them.
    assert_eq!(
        classify(regions(&a, root)),
        [
            "main.rs:1.1,1.36 1 2",  // entry: c0
            "main.rs:2.8,2.13 1 2",  // n < 0: c0
            "main.rs:2.23,2.33 1 1", // "negative": c1
            "main.rs:2.35,2.36 1 1", // after the `if` (n >= 0): c0 - c1
            "main.rs:3.8,3.14 1 1",  // n == 0: c0 - c1
            "main.rs:4.9,4.15 1 0",  // "zero": c2
            "main.rs:6.9,6.19 1 1",  // "positive": (c0 - c1) - c2
            "main.rs:8.1,8.2 1 2",   // the closing brace: c0
        ],
        "A"
    );
    assert_eq!(
        classify(regions(&b, root)),
        [
            "main.rs:1.1,1.36 1 2",
            "main.rs:2.8,2.13 1 2",
            "main.rs:2.23,2.33 1 0",
            "main.rs:2.35,2.36 1 2",
            "main.rs:3.8,3.14 1 2",
            "main.rs:4.9,4.15 1 1",
            "main.rs:6.9,6.19 1 1",
            "main.rs:8.1,8.2 1 2",
        ],
        "B"
    );

    // subtract: A's count where B's is 0, else 0.
    let sub = s.path("sub");
    covdata_ok(&[
        "subtract",
        &format!("-i={},{}", a.display(), b.display()),
        &output(&sub),
    ]);
    assert_eq!(
        classify(regions(&sub, root)),
        [
            "main.rs:1.1,1.36 1 0",
            "main.rs:2.8,2.13 1 0",
            "main.rs:2.23,2.33 1 1", // only A returned "negative"
            "main.rs:2.35,2.36 1 0",
            "main.rs:3.8,3.14 1 0",
            "main.rs:4.9,4.15 1 0",
            // (c0 - c1) - c2 is 1 in both: 0. Zeroing raw counters the
            // way Go does would give (0 - 1) - 0 = -1, "covered".
            "main.rs:6.9,6.19 1 0",
            "main.rs:8.1,8.2 1 0",
        ],
        "A - B"
    );
    let sub_lines = lines_and_branches(&sub);
    // Line 2 has three code regions, `n < 0` (0), "negative" (1) and
    // the fall-through (0): it stays covered, lines follow regions.
    assert!(sub_lines.contains(&"DA:1,0".to_string()), "{sub_lines:?}");
    assert!(sub_lines.contains(&"DA:2,1".to_string()), "{sub_lines:?}");
    assert!(sub_lines.contains(&"DA:6,0".to_string()), "{sub_lines:?}");
    // Branches: `n < 0` true (c1) 1 in A, 0 in B: kept; false (c0 - c1)
    // 1 in A, 2 in B: 0. `n == 0`: true (c2) 0 in A; false 1 and 1: 0.
    let brda: Vec<&String> = sub_lines
        .iter()
        .filter(|l| l.starts_with("BRDA:2,") || l.starts_with("BRDA:3,"))
        .collect();
    assert_eq!(
        brda,
        [
            "BRDA:2,0,0,1",
            "BRDA:2,0,1,0",
            "BRDA:3,0,0,-",
            "BRDA:3,0,1,-"
        ]
    );
    // Everything of main ran in both: nothing of it is left.
    let all = regions(&sub, root);
    let of_main: Vec<&String> = all
        .iter()
        .filter(|l| classify(vec![l.to_string()]).is_empty())
        .collect();
    assert!(
        !of_main.is_empty() && of_main.iter().all(|l| l.ends_with(" 0")),
        "{all:?}"
    );

    // intersect: A's count where every input's is non-zero.
    let int = s.path("int");
    covdata_ok(&[
        "intersect",
        &format!("-i={},{}", a.display(), b.display()),
        &output(&int),
    ]);
    assert_eq!(
        classify(regions(&int, root)),
        [
            "main.rs:1.1,1.36 1 2",
            "main.rs:2.8,2.13 1 2",
            "main.rs:2.23,2.33 1 0",
            "main.rs:2.35,2.36 1 1",
            "main.rs:3.8,3.14 1 1", // A's count of c0 - c1, B's is 2
            "main.rs:4.9,4.15 1 0",
            "main.rs:6.9,6.19 1 1",
            "main.rs:8.1,8.2 1 2",
        ],
        "A & B"
    );
    let int_lines = lines_and_branches(&int);
    let brda: Vec<&String> = int_lines
        .iter()
        .filter(|l| l.starts_with("BRDA:2,") || l.starts_with("BRDA:3,"))
        .collect();
    // `n < 0` true: 0 in B; false: 1 (A's). `n == 0` true: 0 in A;
    // false: 1 in both.
    assert_eq!(
        brda,
        [
            "BRDA:2,0,0,0",
            "BRDA:2,0,1,1",
            "BRDA:3,0,0,0",
            "BRDA:3,0,1,1"
        ]
    );
    assert!(int_lines.contains(&"DA:2,2".to_string()), "{int_lines:?}");
    assert!(int_lines.contains(&"DA:4,0".to_string()), "{int_lines:?}");

    // Deterministic: the same command gives the same bytes; the other
    // inputs of intersect can come in any order.
    let int2 = s.path("int2");
    covdata_ok(&[
        "intersect",
        &format!("-i={},{},{}", a.display(), b.display(), a.display()),
        &output(&int2),
    ]);
    let int3 = s.path("int3");
    covdata_ok(&[
        "intersect",
        &format!("-i={},{},{}", a.display(), a.display(), b.display()),
        &output(&int3),
    ]);
    assert_eq!(dir_files(&int2), dir_files(&int3));
    assert_eq!(dir_files(&int2), dir_files(&int));
    // The rewritten data is valid LLVM data: llvm-profdata reads the raw
    // profile covdata exports from it.
    let listing = covdata_ok(&[
        "profraw",
        &input(&sub),
        &format!("-o={}", s.path("pr").display()),
    ]);
    let written: Vec<PathBuf> = listing
        .lines()
        .map(|l| PathBuf::from(l.split('\t').next().unwrap()))
        .collect();
    llvm_merge(&written, &s.path("sub.profdata"));

    // Against a binary that has none of these functions: subtract keeps
    // A as it is, intersect keeps nothing.
    let other = build_branchy(&s, "other", "fn main() {}\n");
    let o = covdir_of(&s, "o", &other, &[&[]]);
    let sub_o = s.path("sub-o");
    covdata_ok(&[
        "subtract",
        &format!("-i={},{}", a.display(), o.display()),
        &output(&sub_o),
    ]);
    assert_same_text(
        &covdata_ok(&["lcov", &input(&sub_o)]),
        &covdata_ok(&["lcov", &input(&a)]),
        "A - unrelated",
    );
    let int_o = s.path("int-o");
    covdata_ok(&[
        "intersect",
        &format!("-i={},{}", a.display(), o.display()),
        &output(&int_o),
    ]);
    assert!(regions(&int_o, root).iter().all(|l| l.ends_with(" 0")));
}

/// Every report of `a` and `b` is the same, byte for byte.
fn assert_same_reports(a: &Path, b: &Path, what: &str) {
    for args in [
        &["lcov"][..],
        &["lcov", "--mangled"],
        &["textfmt"],
        &["percent"],
        &["func"],
        &["pkglist"],
    ] {
        let mut x = args.to_vec();
        let ia = input(a);
        x.push(&ia);
        let mut y = args.to_vec();
        let ib = input(b);
        y.push(&ib);
        assert_same_text(
            &covdata_ok(&x),
            &covdata_ok(&y),
            &format!("{what}: {}", args.join(" ")),
        );
    }
}

fn metas(dir: &Path) -> Vec<Vec<u8>> {
    dir_files(dir)
        .into_iter()
        .filter(|(n, _)| n.starts_with("covmeta."))
        .map(|(_, b)| b)
        .collect()
}

fn counter_headers(dir: &Path) -> Vec<(CountersHeader, Vec<(String, String)>)> {
    dir_files(dir)
        .into_iter()
        .filter(|(n, _)| n.starts_with("covcounters."))
        .map(|(_, b)| {
            let f = CountersFile::parse(&b).unwrap();
            (*f.header(), f.args().to_vec())
        })
        .collect()
}

/// Two binaries sharing a library: `merge` keeps two pods, `--pcombine`
/// folds them into one of two modules; reports (and llvm-cov on the
/// combined raw profile) are those of the inputs.
#[test]
fn merge_and_pcombine_two_binaries() {
    let s = Scratch::new("pcombine");
    let bins = build_lib_and_bins(
        &s,
        "v1",
        SHARED_LIB_RS,
        &[("bin1", SHARED_BIN1_RS), ("bin2", SHARED_BIN2_RS)],
    );
    let profraws = [
        s.path("a.profraw"),
        s.path("b.profraw"),
        s.path("c.profraw"),
    ];
    run_profiled(&bins[0], &["1"], &profraws[0]);
    run_profiled(&bins[1], &[], &profraws[1]);
    run_profiled(&bins[1], &["1", "2", "3"], &profraws[2]);
    let covdir = s.path("covdir");
    make_covdir(&covdir, &bins, &profraws);

    // Every mapping of both binaries encodes back to its bytes.
    for meta in metas(&covdir) {
        let m = MetaFile::parse(&meta).unwrap();
        let module = &m.modules()[0];
        let tables = covdata::llvm::covmap::FileTables::decode(module.llvm_covmap()).unwrap();
        let raw = covdata::llvm::covfun::raw_records(module.llvm_covfun()).unwrap();
        assert!(raw.len() > 2);
        for r in raw {
            let covdata::llvm::covmap::TableRef::Table(t) = tables.lookup(r.filenames_ref) else {
                panic!("no table");
            };
            let decoded =
                covdata::llvm::mapping::Mapping::decode(r.mapping, tables.tables[t].files.len())
                    .unwrap();
            assert_eq!(covdata::llvm::write::encode_mapping(&decoded), r.mapping);
        }
    }

    // Plain merge: the same pods, one counter file each.
    let merged = s.path("merged");
    covdata_ok(&["merge", &input(&covdir), &output(&merged)]);
    assert_eq!(metas(&merged), metas(&covdir));
    let headers = counter_headers(&merged);
    let mut runs: Vec<u32> = headers.iter().map(|(h, _)| h.runs).collect();
    runs.sort();
    assert_eq!(runs, [1, 2]);
    for (h, args) in &headers {
        assert_eq!((h.pid, h.end), (0, end_reason::MERGED));
        assert_eq!(
            args.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["os", "arch"]
        );
    }
    assert_same_reports(&merged, &covdir, "merge");

    // pcombine: one pod of two modules.
    let comb = s.path("comb");
    let out = covdata(&["merge", "--pcombine", &input(&covdir), &output(&comb)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let comb_metas = metas(&comb);
    assert_eq!(comb_metas.len(), 1);
    let m = MetaFile::parse(&comb_metas[0]).unwrap();
    assert_eq!(m.modules().len(), 2);
    // Shared library functions are in the first module only.
    let first: std::collections::HashSet<(u64, u64)> = m.modules()[0]
        .funcs()
        .map(|f| (f.name_ref, f.func_hash))
        .collect();
    assert!(m.modules()[1]
        .funcs()
        .all(|f| !first.contains(&(f.name_ref, f.func_hash))));
    assert!(m.modules()[1].num_funcs() > 0);
    assert_eq!(counter_headers(&comb)[0].0.runs, 3);
    assert_same_reports(&comb, &covdir, "pcombine");

    // llvm-cov reads the combined pod's raw profile like the originals.
    let mut sorted = bins.clone();
    sorted.sort_by_key(|b| write_meta(&s.path("order"), b).0);
    let theirs = s.path("orig.profdata");
    llvm_merge(&profraws, &theirs);
    let listing = covdata_ok(&[
        "profraw",
        &input(&comb),
        &format!("-o={}", s.path("pr").display()),
    ]);
    let written: Vec<PathBuf> = listing
        .lines()
        .map(|l| PathBuf::from(l.split('\t').next().unwrap()))
        .collect();
    assert_eq!(written.len(), 1);
    let ours = s.path("comb.profdata");
    llvm_merge(&written, &ours);
    assert_same_text(
        &llvm_lcov(&ours, &sorted),
        &llvm_lcov(&theirs, &sorted),
        "llvm-cov on the combined raw profile",
    );

    // A pod of two modules exactly as the binaries wrote them (no
    // deduplication) reports like the two pods.
    let raw_comb = s.path("raw-comb");
    std::fs::create_dir_all(&raw_comb).unwrap();
    let loaded = covdata::load(std::slice::from_ref(&covdir), Default::default()).unwrap();
    let builders: Vec<_> = loaded
        .pods
        .iter()
        .map(|p| {
            MetaFile::parse(p.meta_bytes())
                .unwrap()
                .to_builders()
                .remove(0)
        })
        .collect();
    let (bytes, hash) = encode_modules(&builders);
    std::fs::write(raw_comb.join(meta_file_name(&hash)), bytes).unwrap();
    let counters: Vec<u64> = loaded
        .pods
        .iter()
        .flat_map(|p| p.counters.iter().copied())
        .collect();
    let header = CountersHeader {
        flags: 0,
        meta_hash: hash,
        pid: 1,
        start_ns: 1,
        write_ns: 2,
        num_counters: counters.len() as u32,
        end: 0,
        runs: 3,
    };
    let entries = counters
        .iter()
        .enumerate()
        .filter(|(_, v)| **v != 0)
        .map(|(i, v)| (i as u32, *v));
    std::fs::write(
        raw_comb.join(counters_file_name(&hash, 1, 2)),
        encode(&header, &[], entries),
    )
    .unwrap();
    assert_same_reports(&raw_comb, &covdir, "two modules, not deduplicated");
    // ... and combining it again gives the same combined pod.
    let again = s.path("comb-again");
    covdata_ok(&["merge", "--pcombine", &input(&raw_comb), &output(&again)]);
    assert_eq!(metas(&again), comb_metas);

    // --pkg: only the library's functions; smaller; the same LCOV as the
    // filtered report of the inputs.
    for pcombine in [false, true] {
        let filtered = s.path(&format!("pkg-{pcombine}"));
        let mut args = vec!["merge", "--pkg=mylib"];
        if pcombine {
            args.push("--pcombine");
        }
        let (i, o) = (input(&covdir), output(&filtered));
        args.extend([i.as_str(), o.as_str()]);
        covdata_ok(&args);
        assert_eq!(covdata_ok(&["pkglist", &input(&filtered)]), "mylib\n");
        let size = |d: &Path| metas(d).iter().map(Vec::len).sum::<usize>();
        assert!(size(&filtered) < size(if pcombine { &comb } else { &covdir }));
        let ours = covdata_ok(&["lcov", &input(&filtered)]);
        let theirs = covdata_ok(&["lcov", &input(&covdir), "--pkg=mylib"]);
        if pcombine {
            assert_same_text(&ours, &theirs, "merge --pkg --pcombine");
        } else {
            // New hashes may order the pods differently: the same records,
            // maybe in another order.
            let sorted = |t: &str| {
                let mut v: Vec<String> = t.lines().map(String::from).collect();
                v.sort();
                v
            };
            assert_eq!(sorted(&ours), sorted(&theirs), "merge --pkg");
        }
        assert_eq!(
            covdata_percent_totals(&covdata_ok(&["percent", &input(&filtered)])),
            covdata_percent_totals(&covdata_ok(&["percent", &input(&covdir), "--pkg=mylib"])),
        );
    }
}

/// A library changed between two builds: its changed function has
/// another structural hash in the second binary and stays a separate
/// function, which pcombine says; reports still equal the inputs'.
#[test]
fn pcombine_keeps_functions_whose_source_changed() {
    let s = Scratch::new("pcombine-changed");
    // `lib_own` has one name in both (not generic, not inline).
    let bin1 = SHARED_BIN1_RS.replace(
        "println!(\"{}\", mylib::inl(n));",
        "println!(\"{}\", mylib::lib_own(n));",
    );
    assert_ne!(bin1, SHARED_BIN1_RS);
    let v1 = build_lib_and_bins(&s, "v1", SHARED_LIB_RS, &[("bin1", &bin1)]);
    let lib2 = SHARED_LIB_RS.replace("pick(n, 4u32)", "pick(n + 1, 4u32)");
    assert_ne!(lib2, SHARED_LIB_RS);
    let v2 = build_lib_and_bins(&s, "v2", &lib2, &[("bin2", SHARED_BIN2_RS)]);
    let profraws = [s.path("a.profraw"), s.path("b.profraw")];
    run_profiled(&v1[0], &["1"], &profraws[0]);
    run_profiled(&v2[0], &["1", "2"], &profraws[1]);
    let covdir = s.path("covdir");
    let bins = [v1[0].clone(), v2[0].clone()];
    make_covdir(&covdir, &bins, &profraws);
    let comb = s.path("comb");
    let out = covdata(&["merge", "--pcombine", &input(&covdir), &output(&comb)]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("covdata: ")
            && err.contains("stayed separate because their source differed")
            && err.lines().count() == 1,
        "{err}"
    );
    assert_same_reports(&comb, &covdir, "pcombine of two library versions");
}

/// The same inputs in any order, split over directories in any way, give
/// byte-identical output; merging twice gives the same files; times and
/// runs come from the inputs.
#[test]
fn merge_is_deterministic() {
    let s = Scratch::new("merge-det");
    let bins = build_lib_and_bins(
        &s,
        "v1",
        SHARED_LIB_RS,
        &[("bin1", SHARED_BIN1_RS), ("bin2", SHARED_BIN2_RS)],
    );
    let p: Vec<PathBuf> = (0..4).map(|i| s.path(&format!("{i}.profraw"))).collect();
    run_profiled(&bins[0], &["1"], &p[0]);
    run_profiled(&bins[1], &[], &p[1]);
    run_profiled(&bins[0], &[], &p[2]);
    run_profiled(&bins[1], &["x"], &p[3]);
    let d1 = s.path("d1");
    let d2 = s.path("d2");
    make_covdir(&d1, &bins, &p[..2]);
    make_covdir(&d2, &bins, &p[2..]);
    let all = s.path("all");
    make_covdir(&all, &bins, &p);
    for extra in [&[][..], &["--pcombine"]] {
        let run = |inputs: &str, out: &str| {
            let o = s.path(out);
            let mut args = vec!["merge".to_string(), format!("-i={inputs}"), output(&o)];
            args.extend(extra.iter().map(|x| x.to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            covdata_ok(&args);
            dir_files(&o)
        };
        let tag = extra.len();
        let ab = run(
            &format!("{},{}", d1.display(), d2.display()),
            &format!("ab{tag}"),
        );
        let ba = run(
            &format!("{},{}", d2.display(), d1.display()),
            &format!("ba{tag}"),
        );
        let one = run(&all.display().to_string(), &format!("one{tag}"));
        assert_eq!(ab, ba);
        // make_covdir numbers its files by position: the times differ
        // between `all` and d1+d2, the counts must not.
        assert_eq!(ab.len(), one.len());
        let again = run(
            &format!("{},{}", d1.display(), d2.display()),
            &format!("ab{tag}"),
        );
        assert_eq!(ab, again);
        let remerged = run(
            &s.path(&format!("ab{tag}")).display().to_string(),
            &format!("re{tag}"),
        );
        assert_eq!(remerged, ab, "merging a merged directory changes nothing");
    }
    // Times: min start, max write of the inputs.
    let merged = s.path("ab0");
    for (h, _) in counter_headers(&merged) {
        assert!(h.start_ns >= 1_700_000_000_000_000_000 && h.start_ns < 1_700_000_000_000_000_004);
        assert!(h.write_ns >= 1_700_000_001_000_000_000 && h.write_ns < 1_700_000_001_000_000_004);
        assert_eq!(h.flags & counter_flags::SATURATED, 0);
    }
}

/// Bad inputs: one line naming the file, exit 1; `--ignore-bad` skips
/// them and says how many; usage errors exit 2.
#[test]
fn bad_inputs_and_usage() {
    let s = Scratch::new("ops-bad");
    let bin = build_branchy(&s, "main", CLASSIFY_RS);
    let a = covdir_of(&s, "a", &bin, &[&["1"], &["-1"]]);
    let b = covdir_of(&s, "b", &bin, &[&["0"]]);
    let victim = first_counter_file(&a);
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() - 5]).unwrap();
    let both = format!("-i={},{}", a.display(), b.display());
    for command in ["merge", "subtract", "intersect"] {
        let out_dir = s.path(&format!("out-{command}"));
        let out = covdata(&[command, &both, &output(&out_dir)]);
        assert_eq!(out.status.code(), Some(1), "{command}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("covdata: {}: truncated", victim.display())),
            "{err}"
        );
        assert!(
            !out_dir.exists(),
            "{command} wrote output despite the error"
        );

        let out = covdata(&[command, &both, &output(&out_dir), "--ignore-bad"]);
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!(
                "covdata: warning: {}: truncated",
                victim.display()
            )),
            "{err}"
        );
        assert!(
            err.ends_with("covdata: warning: skipped 1 bad input\n"),
            "{err}"
        );
        // What is left is reported.
        assert!(covdata_ok(&["lcov", &input(&out_dir)]).contains("SF:"));
    }
    // A pod whose LLVM data is malformed is a bad input too.
    let meta_path = first_file_named(&b, "covmeta.");
    let meta = std::fs::read(&meta_path).unwrap();
    let parsed = MetaFile::parse(&meta).unwrap();
    let mut builder = parsed.to_builders().remove(0);
    // The first record's DataSize runs past the section.
    builder.covfun[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let (bad_meta, bad_hash) = builder.encode();
    let c = s.path("c");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::write(c.join(meta_file_name(&bad_hash)), bad_meta).unwrap();
    let out = covdata(&[
        "merge",
        "--pcombine",
        &format!("-i={},{}", b.display(), c.display()),
        &output(&s.path("pc")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("__llvm_covfun") && err.lines().count() == 1,
        "{err}"
    );
    let out = covdata(&[
        "merge",
        "--pcombine",
        "--ignore-bad",
        &format!("-i={},{}", b.display(), c.display()),
        &output(&s.path("pc")),
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).ends_with("skipped 1 bad input\n"));
    assert_same_text(
        &covdata_ok(&["lcov", &input(&s.path("pc"))]),
        &covdata_ok(&["lcov", &input(&b)]),
        "pcombine without the bad pod",
    );

    // Usage.
    let o = output(&s.path("u"));
    for args in [
        vec!["merge", "-i=x"],
        vec!["subtract", "-i=x", o.as_str()],
        vec!["subtract", "-i=x,y,z", o.as_str()],
        vec!["intersect", "-i=x", o.as_str()],
        vec!["subtract", "--pcombine", "-i=x,y", o.as_str()],
    ] {
        assert_eq!(covdata(&args).status.code(), Some(2), "{args:?}");
    }
    let same = covdata(&["merge", &input(&a), &output(&a)]);
    assert_eq!(same.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&same.stderr).contains("is also an input"));
}

/// Sums saturate at `u64::MAX`: one warning, the flag in the header, and
/// the flag carries over when the output is merged again.
#[test]
fn saturation_is_flagged_once() {
    let s = Scratch::new("ops-saturate");
    let bin = build_branchy(&s, "main", CLASSIFY_RS);
    let a = covdir_of(&s, "a", &bin, &[&["1"], &["-1"], &["0"]]);
    rewrite_counters(&a, |v| if v > 0 { u64::MAX / 2 + v } else { 0 });
    let merged = s.path("merged");
    let out = covdata(&["merge", &input(&a), &output(&merged)]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("covdata: warning: ") && err.contains("saturated"),
        "{err}"
    );
    let headers = counter_headers(&merged);
    assert_eq!(headers.len(), 1);
    assert_ne!(headers[0].0.flags & counter_flags::SATURATED, 0);
    assert_eq!(headers[0].0.runs, 3);
    let again = s.path("again");
    let out = covdata(&["merge", &input(&merged), &output(&again)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("saturated"));
    assert_ne!(
        counter_headers(&again)[0].0.flags & counter_flags::SATURATED,
        0
    );
    let loaded = covdata::load(std::slice::from_ref(&merged), Default::default()).unwrap();
    assert!(loaded.pods[0].counters.contains(&u64::MAX));
}
