//! Writes seed corpora for every fuzz target from real data: a small
//! program is built with `rustc -C instrument-coverage` (once plainly, once
//! with branch regions), run, and its binary, raw profile, meta file,
//! counter file and LLVM sections are cut into inputs.
//!
//! ```text
//! cd fuzz && cargo run --example make_seeds -- corpus
//! ```
//!
//! needs rustc on PATH (or `$RUSTC`) and writes `<dir>/<target>/<name>`.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../covdata/tests/fuzz_harness/mod.rs"]
#[allow(unused)]
mod harness;

use covdata::llvm::covfun;
use covdata::llvm::covmap::FileTables;
use covdata::llvm::names::NameTable;
use covwrap_rt::format::counters::{encode as encode_counters, CountersHeader};
use covwrap_rt::format::elf::{Elf, FileReader};
use covwrap_rt::format::from_elf::build_meta;
use covwrap_rt::format::meta::{encode_modules, MetaFile};

const PROGRAM: &str = r#"
macro_rules! twice { ($e:expr) => { $e + $e }; }
trait Shape { fn area(&self) -> f64; fn name(&self) -> &'static str { "shape" } }
struct Sq(f64);
impl Shape for Sq { fn area(&self) -> f64 { self.0 * self.0 } }
fn classify(n: i64) -> &'static str {
    if n < 0 { "neg" } else if n == 0 { "zero" } else if n > 100 && n % 2 == 0 { "big" } else { "pos" }
}
fn show<T: std::fmt::Debug>(t: T) -> String { format!("{t:?}") }
#[allow(dead_code)]
fn never() -> i32 { 42 }
fn parse(s: &str) -> Result<i64, std::num::ParseIntError> { let v: i64 = s.parse()?; Ok(twice!(v)) }
fn main() {
    let add = |a: i64, b: i64| a + b;
    for a in std::env::args().skip(1) {
        match parse(&a) {
            Ok(n) => println!("{} {}", classify(n), add(n, 1)),
            Err(e) => println!("{e}"),
        }
    }
    println!("{} {} {}", show(1u8), show("x"), Sq(2.0).area());
    let mut i = 0;
    while i < 3 { i += 1; }
    println!("{}", Sq(1.0).name());
}
"#;

fn put(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(name), bytes).unwrap();
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A minimal little-endian ELF64 file with these sections
/// (name, type, address, contents) and a section name table.
fn mini_elf(sections: &[(String, u32, u64, Vec<u8>)]) -> Vec<u8> {
    let mut shstrtab = vec![0u8];
    let mut name_offs = Vec::new();
    for (name, ..) in sections {
        name_offs.push(shstrtab.len() as u32);
        shstrtab.extend_from_slice(name.as_bytes());
        shstrtab.push(0);
    }
    let shstrtab_name = shstrtab.len() as u32;
    shstrtab.extend_from_slice(b".shstrtab\0");
    let mut body = vec![0u8; 64];
    let mut headers = vec![[0u8; 64]];
    let mut add = |body: &mut Vec<u8>, name: u32, kind: u32, addr: u64, data: &[u8]| {
        while body.len() % 8 != 0 {
            body.push(0);
        }
        let off = body.len() as u64;
        body.extend_from_slice(data);
        let mut h = [0u8; 64];
        h[0..4].copy_from_slice(&name.to_le_bytes());
        h[4..8].copy_from_slice(&kind.to_le_bytes());
        h[16..24].copy_from_slice(&addr.to_le_bytes());
        h[24..32].copy_from_slice(&off.to_le_bytes());
        h[32..40].copy_from_slice(&(data.len() as u64).to_le_bytes());
        h[48..56].copy_from_slice(&8u64.to_le_bytes());
        headers.push(h);
    };
    for ((_, kind, addr, data), name) in sections.iter().zip(&name_offs) {
        add(&mut body, *name, *kind, *addr, data);
    }
    add(&mut body, shstrtab_name, 3, 0, &shstrtab);
    while body.len() % 8 != 0 {
        body.push(0);
    }
    let shoff = body.len() as u64;
    for h in &headers {
        body.extend_from_slice(h);
    }
    let e = &mut body[..64];
    e[..4].copy_from_slice(b"\x7fELF");
    e[4] = 2; // ELF64
    e[5] = 1; // little-endian
    e[6] = 1;
    e[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    e[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86_64
    e[20..24].copy_from_slice(&1u32.to_le_bytes());
    e[40..48].copy_from_slice(&shoff.to_le_bytes());
    e[52..54].copy_from_slice(&64u16.to_le_bytes());
    e[58..60].copy_from_slice(&64u16.to_le_bytes());
    e[60..62].copy_from_slice(&(headers.len() as u16).to_le_bytes());
    e[62..64].copy_from_slice(&((headers.len() - 1) as u16).to_le_bytes());
    body
}

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus".into()));
    let work = std::env::temp_dir().join(format!("covwrap-make-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("main.rs"), PROGRAM).unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut builders = Vec::new();
    for (tag, extra) in [
        ("plain", &[][..]),
        ("branch", &["-Zcoverage-options=branch"][..]),
    ] {
        let bin = work.join(format!("main-{tag}"));
        run(Command::new(&rustc)
            .current_dir(&work)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["--edition", "2021", "-C", "instrument-coverage", "-g"])
            .arg(format!(
                "--remap-path-prefix={}=/covwrap-seed",
                work.display()
            ))
            .args(extra)
            .arg("main.rs")
            .arg("-o")
            .arg(&bin));
        let profraw = work.join(format!("{tag}.profraw"));
        run(Command::new(&bin)
            .args(["1", "-2", "0", "204", "x"])
            .env("LLVM_PROFILE_FILE", &profraw));
        let raw = std::fs::read(&profraw).unwrap();
        put(&out, "profraw_parse", tag, &raw);

        let file = std::fs::File::open(&bin).unwrap();
        let reader = FileReader::new(file).unwrap();
        let b = build_meta(&reader).unwrap();
        let (meta_bytes, hash) = b.encode();
        put(&out, "meta_parse", tag, &meta_bytes);

        // A small ELF with just what the meta builder reads.
        let elf = Elf::parse(&reader).unwrap();
        let wanted = [
            "__llvm_prf_data",
            "__llvm_prf_cnts",
            "__llvm_prf_names",
            "__llvm_covmap",
            "__llvm_covfun",
            ".note.gnu.build-id",
            ".comment",
        ];
        let mut secs: Vec<(String, u32, u64, Vec<u8>)> = wanted
            .iter()
            .filter_map(|n| elf.section(n))
            .map(|s| {
                (
                    s.name.clone(),
                    s.kind,
                    s.addr,
                    elf.read(&reader, s).unwrap(),
                )
            })
            .collect();
        let mut slot = b"covwrap:unset\0\0\0".to_vec();
        slot.resize(32, 0);
        secs.push((".covwrap_meta_id".into(), 1, 0, slot));
        let small = mini_elf(&secs);
        assert_eq!(build_meta(&small[..]).unwrap().funcs, b.funcs);
        put(&out, "elf_build_meta", tag, &small);

        // Counters: the raw profile's, as a counter file.
        let profiles = covdata::profraw::parse(&raw).unwrap();
        let counters =
            covdata::profraw::counters_for(&profiles[0], &b.funcs, b.total_counters).unwrap();
        let header = CountersHeader {
            flags: 0,
            meta_hash: hash,
            pid: 7,
            start_ns: 1,
            write_ns: 2,
            num_counters: b.total_counters,
            end: 0,
            runs: 1,
        };
        let args = [("argv".to_string(), "./main".to_string())];
        let entries = counters
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0)
            .map(|(i, v)| (i as u32, *v));
        put(
            &out,
            "counters_parse",
            tag,
            &encode_counters(&header, &args, entries),
        );

        put(&out, "llvm_names", tag, &b.names);
        put(&out, "llvm_covmap", tag, &b.covmap);
        let names = NameTable::decode(&b.names).unwrap();
        let tables = FileTables::decode(&b.covmap).unwrap();
        let records = covfun::decode(&b.covfun, &tables, &names).unwrap();
        for (i, r) in records.iter().enumerate() {
            let table_len = tables.tables[r.table].files.len();
            let mut input = vec![(table_len - 1) as u8, (i % 4) as u8];
            input.extend_from_slice(r.mapping);
            put(&out, "llvm_mapping", &format!("{tag}-{i}"), &input);
        }
        let mut stored: Vec<&str> = Vec::new();
        for f in &b.funcs {
            if let Some(name) = names.get(f.name_ref) {
                put(
                    &out,
                    "crate_of",
                    &format!("{:016x}", f.name_ref),
                    name.as_bytes(),
                );
                stored.push(name);
            }
        }
        let stored = covdata::llvm::names::encode_stored(&stored);
        put(&out, "llvm_names", &format!("{tag}-stored"), &stored);
        let covdir = harness::Covdir {
            meta: b.clone(),
            counters,
        };
        put(&out, "covdir_report", tag, &covdir.to_bytes());
        builders.push(b);
    }
    let (two, _) = encode_modules(&builders);
    put(&out, "meta_parse", "two-modules", &two);
    assert_eq!(MetaFile::parse(&two).unwrap().modules().len(), 2);
    let _ = std::fs::remove_dir_all(&work);
}
