//! Property tests of merge, subtract and intersect over real meta files
//! (two programs built with `rustc -C instrument-coverage`) and generated
//! counter files.
//!
//! Consistent counter files are non-negative combinations of real runs'
//! counter arrays (every region count, an expression over counters, is
//! then a non-negative combination of real region counts); arbitrary ones
//! (any u64, saturation included) are used where only bytes matter.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use covdata::crates::CrateFilter;
use covdata::ops::{self, MergeOptions, OpOptions};
use covdata::report::{self, Context, ReportOptions};
use covwrap_rt::format::counters::{encode, CountersHeader};
use covwrap_rt::format::defs::end_reason;
use covwrap_rt::format::meta::MetaFile;
use covwrap_rt::format::names::{counters_file_name, meta_file_name};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const PROG_A: &str = r#"fn classify(n: i32) -> &'static str {
    if n < 0 { return "negative"; }
    if n == 0 {
        "zero"
    } else if n > 1000 {
        "big"
    } else {
        "positive"
    }
}

fn shape<T: std::fmt::Debug>(v: &[T]) -> usize {
    let mut n = 0;
    for x in v {
        if format!("{x:?}").len() > 2 {
            n += 1;
        }
    }
    n
}

fn main() {
    let args: Vec<i32> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    for &a in &args {
        println!("{}", classify(a));
    }
    if args.len() > 2 {
        println!("{}", shape(&args));
    } else {
        println!("{}", shape(&["x", "yy"]));
    }
}
"#;

const PROG_B: &str = r#"fn step(n: u64) -> u64 {
    if n % 2 == 0 { n / 2 } else { 3 * n + 1 }
}

fn main() {
    let mut n: u64 = std::env::args().count() as u64 * 7;
    let mut k = 0;
    while n != 1 && k < 50 {
        n = step(n);
        k += 1;
    }
    match k {
        0 => println!("none"),
        1..=10 => println!("few"),
        _ => println!("many"),
    }
}
"#;

/// A pod: its meta file and the counter arrays of real runs.
struct PodBasis {
    meta: Vec<u8>,
    runs: Vec<Vec<u64>>,
}

fn build(s: &Scratch) -> Vec<PodBasis> {
    let mut out = Vec::new();
    for (name, src, runs) in [
        (
            "a",
            PROG_A,
            &[&["-3", "0", "5"][..], &["7"], &["1", "2", "3", "4000"], &[]][..],
        ),
        ("b", PROG_B, &[&[][..], &["1"], &["1", "2", "3"]]),
    ] {
        let bin = build_branchy(s, name, src);
        let (_, meta) = write_meta(&s.path("metas"), &bin);
        let parsed = MetaFile::parse(&meta).unwrap();
        let funcs: Vec<_> = parsed.modules()[0].funcs().collect();
        let mut arrays = Vec::new();
        for (i, args) in runs.iter().enumerate() {
            let p = s.path(&format!("{name}{i}.profraw"));
            run_profiled(&bin, args, &p);
            let raw = covdata::profraw::parse(&std::fs::read(&p).unwrap()).unwrap();
            arrays.push(
                covdata::profraw::counters_for(&raw[0], &funcs, parsed.total_counters()).unwrap(),
            );
        }
        out.push(PodBasis { meta, runs: arrays });
    }
    out
}

/// One generated counter file: which pod, and its counters.
#[derive(Clone, Debug)]
struct RunSpec {
    pod: usize,
    counters: Vec<u64>,
}

/// Consistent runs: for each, a pod and small coefficients of its real runs.
fn consistent(bases: &[PodBasis]) -> impl Strategy<Value = Vec<RunSpec>> + '_ {
    let one = (0..bases.len()).prop_flat_map(move |pod| {
        let n = bases[pod].runs.len();
        proptest::collection::vec(0u64..3, n).prop_map(move |coef| {
            let len = bases[pod].runs[0].len();
            let mut counters = vec![0u64; len];
            for (c, run) in coef.iter().zip(&bases[pod].runs) {
                for (d, v) in counters.iter_mut().zip(run) {
                    *d += c * v;
                }
            }
            RunSpec { pod, counters }
        })
    });
    proptest::collection::vec(one, 1..4)
}

/// Arbitrary runs: any values, some near `u64::MAX`.
fn arbitrary(bases: &[PodBasis]) -> impl Strategy<Value = Vec<RunSpec>> + '_ {
    let value = prop_oneof![3 => 0u64..5, 1 => any::<u64>(), 1 => (u64::MAX - 3)..=u64::MAX];
    let one = (0..bases.len()).prop_flat_map(move |pod| {
        let len = bases[pod].runs[0].len();
        proptest::collection::vec(value.clone(), len)
            .prop_map(move |counters| RunSpec { pod, counters })
    });
    proptest::collection::vec(one, 0..3)
}

/// Writes a COVDIR: both meta files, one counter file per run.
fn write_dir(
    dir: &Path,
    bases: &[PodBasis],
    runs: &[RunSpec],
    seq: &std::cell::Cell<u64>,
) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for b in bases {
        let m = MetaFile::parse(&b.meta).unwrap();
        std::fs::write(dir.join(meta_file_name(&m.hash())), &b.meta).unwrap();
    }
    for r in runs {
        seq.set(seq.get() + 1);
        let n = seq.get();
        let m = MetaFile::parse(&bases[r.pod].meta).unwrap();
        let header = CountersHeader {
            flags: 0,
            meta_hash: m.hash(),
            pid: n,
            start_ns: 1_000 + n,
            write_ns: 2_000 + n,
            num_counters: m.total_counters(),
            end: end_reason::EXIT,
            runs: 1,
        };
        let args = vec![("os".to_string(), "linux".to_string())];
        let entries = r.counters.iter().enumerate().map(|(i, v)| (i as u32, *v));
        std::fs::write(
            dir.join(counters_file_name(
                &header.meta_hash,
                header.pid,
                header.write_ns,
            )),
            encode(&header, &args, entries),
        )
        .unwrap();
    }
    dir.to_path_buf()
}

fn load(dirs: &[&Path]) -> covdata::Loaded {
    let dirs: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    covdata::load(&dirs, Default::default()).unwrap()
}

fn merge(dirs: &[&Path], pcombine: bool) -> ops::Output {
    ops::merge(
        &load(dirs),
        &MergeOptions {
            pcombine,
            op: OpOptions::default(),
            keep_labels: None,
        },
    )
    .unwrap()
}

fn written(out: &ops::Output, dir: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    out.write_to(dir).unwrap();
    dir.to_path_buf()
}

/// `lcov` and `percent` of `dirs` read together.
fn reports(dirs: &[&Path]) -> (String, String) {
    let dirs: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    let cov = covdata::load_coverage(&dirs, false).unwrap();
    let ctx = Context::new(
        &cov,
        ReportOptions {
            crates: CrateFilter::default(),
            root: None,
            mangled: true,
            ..ReportOptions::default()
        },
    );
    let mut lcov = Vec::new();
    report::lcov::write(&ctx, &mut lcov).unwrap();
    let mut percent = Vec::new();
    report::percent::write(&ctx, &mut percent).unwrap();
    (
        String::from_utf8(lcov).unwrap(),
        String::from_utf8(percent).unwrap(),
    )
}

/// (file, line) → count of every `DA` line.
fn da(lcov: &str) -> std::collections::BTreeMap<(String, u32), u64> {
    let mut out = std::collections::BTreeMap::new();
    let mut file = String::new();
    for l in lcov.lines() {
        if let Some(f) = l.strip_prefix("SF:") {
            file = f.to_string();
        } else if let Some(rest) = l.strip_prefix("DA:") {
            let (line, count) = rest.split_once(',').unwrap();
            out.insert(
                (file.clone(), line.parse().unwrap()),
                count.parse().unwrap(),
            );
        }
    }
    out
}

fn covered(lcov: &str) -> std::collections::BTreeSet<(String, u32)> {
    da(lcov)
        .into_iter()
        .filter(|(_, c)| *c > 0)
        .map(|(k, _)| k)
        .collect()
}

#[test]
fn properties() {
    let s = Scratch::new("props");
    let bases = build(&s);
    let w = |name: &str| s.path(&format!("dir-{name}"));
    let seq = std::cell::Cell::new(0u64);
    let config = Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    };

    // merge is commutative and associative, byte for byte, and its
    // reports (and pcombine's) are those of its inputs.
    TestRunner::new(config.clone())
        .run(
            &(arbitrary(&bases), arbitrary(&bases), consistent(&bases)),
            |(a, b, c)| {
                let a = write_dir(&w("a"), &bases, &a, &seq);
                let b = write_dir(&w("b"), &bases, &b, &seq);
                let c = write_dir(&w("c"), &bases, &c, &seq);
                let ab = merge(&[&a, &b], false);
                prop_assert_eq!(&ab.files, &merge(&[&b, &a], false).files);
                let ab_dir = written(&ab, &w("ab"));
                let bc_dir = written(&merge(&[&b, &c], false), &w("bc"));
                let left = merge(&[&ab_dir, &c], false);
                let right = merge(&[&a, &bc_dir], false);
                prop_assert_eq!(&left.files, &right.files);
                prop_assert_eq!(&left.files, &merge(&[&a, &b, &c], false).files);
                let comb = merge(&[&a, &b, &c], true);
                prop_assert_eq!(&comb.files, &merge(&[&c, &a, &b], true).files);
                let inputs = reports(&[&a, &b, &c]);
                prop_assert_eq!(&reports(&[&written(&left, &w("l"))]), &inputs);
                prop_assert_eq!(&reports(&[&written(&comb, &w("comb"))]), &inputs);
                Ok(())
            },
        )
        .unwrap();

    // Set operations on consistent data.
    TestRunner::new(config)
        .run(&(consistent(&bases), consistent(&bases)), |(a, b)| {
            let a = write_dir(&w("a"), &bases, &a, &seq);
            let b = write_dir(&w("b"), &bases, &b, &seq);
            let (a_lcov, _) = reports(&[&a]);
            let a2 = write_dir(&w("a2"), &bases, &[], &seq);
            for e in std::fs::read_dir(&a).unwrap() {
                let e = e.unwrap();
                std::fs::copy(e.path(), a2.join(e.file_name())).unwrap();
            }
            let opts = OpOptions::default();

            // subtract(a, a) covers nothing.
            let sub = ops::subtract(&[load(&[&a]), load(&[&a2])], &opts).unwrap();
            let sub_dir = written(&sub, &w("sub"));
            let cov = covdata::load_coverage(std::slice::from_ref(&sub_dir), false).unwrap();
            for f in &cov.functions {
                prop_assert!(f.regions.iter().all(|r| r.count == 0), "{}", f.name);
                prop_assert!(f
                    .branches
                    .iter()
                    .all(|b| b.true_count == 0 && b.false_count == 0));
            }
            let (sub_lcov, _) = reports(&[&sub_dir]);
            prop_assert!(covered(&sub_lcov).is_empty());
            let mapped = |l: &str| da(l).into_keys().collect::<Vec<_>>();
            prop_assert_eq!(mapped(&sub_lcov), mapped(&a_lcov));

            // intersect(a, a) covers what a covers (with a's counts).
            let int = ops::intersect(&[load(&[&a]), load(&[&a2])], &opts).unwrap();
            let (int_lcov, _) = reports(&[&written(&int, &w("int"))]);
            prop_assert_eq!(&int_lcov, &a_lcov);

            // merge(a, b) covers everything a covers.
            let (ab_lcov, _) = reports(&[&written(&merge(&[&a, &b], false), &w("ab"))]);
            prop_assert!(covered(&a_lcov).is_subset(&covered(&ab_lcov)));

            // subtract(a, b) and intersect(a, b) split a's covered regions:
            // every region a covers is kept by exactly one of them.
            let sub = ops::subtract(&[load(&[&a]), load(&[&b])], &opts).unwrap();
            let int = ops::intersect(&[load(&[&a]), load(&[&b])], &opts).unwrap();
            let cov_a = covdata::load_coverage(std::slice::from_ref(&a), false).unwrap();
            let cov_s = covdata::load_coverage(&[written(&sub, &w("sub"))], false).unwrap();
            let cov_i = covdata::load_coverage(&[written(&int, &w("int"))], false).unwrap();
            prop_assert_eq!(cov_a.functions.len(), cov_s.functions.len());
            prop_assert_eq!(cov_a.functions.len(), cov_i.functions.len());
            for ((fa, fs), fi) in cov_a
                .functions
                .iter()
                .zip(&cov_s.functions)
                .zip(&cov_i.functions)
            {
                prop_assert_eq!(&fa.name, &fs.name);
                for ((ra, rs), ri) in fa.regions.iter().zip(&fs.regions).zip(&fi.regions) {
                    prop_assert_eq!(
                        (ra.start(), ra.end(), ra.kind),
                        (rs.start(), rs.end(), rs.kind)
                    );
                    prop_assert!(rs.count == 0 || rs.count == ra.count);
                    prop_assert!(ri.count == 0 || ri.count == ra.count);
                    prop_assert_eq!(
                        (rs.count != 0) as u8 + (ri.count != 0) as u8,
                        (ra.count != 0) as u8
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}
