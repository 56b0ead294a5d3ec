//! The code paths of covdata's fuzz targets (`fuzz/fuzz_targets/`), shared
//! with `tests/fuzz_regressions.rs` so that a saved input is replayed
//! through exactly the code that found it. Each function returns what the
//! code under test returned; none may panic, and the properties they
//! assert (round trips) are part of the check.
//!
//! `covdir_report` takes a container of length-prefixed chunks (see
//! [`Covdir`]) rather than a meta file, so that mutations of the LLVM
//! sections and of the function table are re-encoded into a valid meta file
//! (right length and H) and a matching counter file, and reach the LLVM
//! decoders, the model and every report instead of the integrity checks.

#![allow(dead_code)]

use std::io;
use std::path::{Path, PathBuf};

use covdata::crates::{crate_of as crate_of_name, CrateFilter};
use covdata::llvm::covfun;
use covdata::llvm::covmap::FileTables;
use covdata::llvm::mapping::{is_dummy, Mapping, RegionKind};
use covdata::llvm::names::NameTable;
use covdata::model::counts::Evaluator;
use covdata::model::lines::{for_each_mapped_run, line_totals};
use covdata::model::summary::{function_summary, FunctionSummary};
use covdata::model::{segments, CountedRegion, Function};
use covdata::report::{self, Context, ReportOptions};
use covdata::{profraw, Result};
use covwrap_rt::format::counters::{encode as encode_counters, CountersHeader};
use covwrap_rt::format::defs::end_reason;
use covwrap_rt::format::meta::{FuncEntry, MetaBuilder};
use covwrap_rt::format::names::{counters_file_name, meta_file_name};

/// Most counters the harnesses make up for a mapping (as the model does
/// for functions without profile data, with a smaller cap).
const MAX_MADE_UP_COUNTERS: usize = 1 << 16;

/// `llvm_names`: a names section. Returns the number of distinct names.
pub fn llvm_names(data: &[u8]) -> Result<usize> {
    let t = NameTable::decode(data)?;
    Ok(t.len())
}

/// `llvm_covmap`: a covmap section, then the same bytes as a covfun
/// section against the tables found (an empty name table: every record's
/// name is unknown). Returns the number of tables.
pub fn llvm_covmap(data: &[u8]) -> Result<usize> {
    let tables = FileTables::decode(data)?;
    for t in &tables.tables {
        let _ = t.compilation_dir();
    }
    let _ = covfun::decode(data, &tables, &NameTable::default());
    Ok(tables.tables.len())
}

/// Counter values for a mapping: `pattern` picks zeros, small counts,
/// values that wrap when subtracted, or a mix.
pub fn made_up_counts(len: usize, pattern: u8) -> Vec<u64> {
    (0..len as u64)
        .map(|i| match pattern % 4 {
            0 => 0,
            1 => i,
            2 => u64::MAX - i,
            _ => (i * u64::from(pattern)) % 3,
        })
        .collect()
}

/// What the model makes of one decoded mapping: a [`Function`] with one
/// distinct file per file id (as `Coverage::build` builds it).
pub fn function_of(mapping: &Mapping, counts: &[u64]) -> Option<Function> {
    let (regions, branches) = Evaluator::default().evaluate(mapping, counts)?;
    let filenames: Vec<u32> = (0..mapping.file_ids.len() as u32).collect();
    let mut expanded = vec![false; filenames.len()];
    for r in &regions {
        if r.kind == RegionKind::Expansion {
            expanded[r.expanded_file_id as usize] = true;
        }
    }
    let main_file_id = expanded.iter().position(|e| !e).map(|i| i as u32);
    Some(Function {
        name: "_RNvCs1_4fuzz1f".into(),
        name_ref: 1,
        func_hash: 2,
        pod: 0,
        module: 0,
        crate_index: 0,
        filenames,
        comp_dir: 0,
        execution_count: regions.first().map_or(0, |r| r.count),
        regions,
        branches,
        main_file_id,
    })
}

/// `llvm_mapping`: byte 0 is the length of the filenames table (1 to 16),
/// byte 1 the counter pattern, the rest one function's mapping. Decodes
/// it, evaluates it, builds each file's segments and lines, and the
/// function's summary. Returns the summary (`None` when evaluation drops
/// the function, as llvm-cov does).
pub fn llvm_mapping(data: &[u8]) -> Result<Option<FunctionSummary>> {
    let (table_len, pattern, bytes) = match data {
        [t, p, rest @ ..] => (usize::from(t % 16) + 1, *p, rest),
        _ => return Ok(None),
    };
    let _ = is_dummy(0, bytes);
    let mapping = Mapping::decode(bytes, table_len)?;
    let len = mapping.max_counter_id() as usize + 1;
    if len > MAX_MADE_UP_COUNTERS {
        return Ok(None);
    }
    let counts = made_up_counts(len, pattern);
    let Some(f) = function_of(&mapping, &counts) else {
        return Ok(None);
    };
    for file_id in 0..f.filenames.len() as u32 {
        let mut view: Vec<CountedRegion> = f
            .regions
            .iter()
            .filter(|r| r.file_id == file_id)
            .copied()
            .collect();
        let segs = segments::build(&mut view);
        let (mapped, covered) = line_totals(&segs);
        assert!(covered <= mapped);
        let mut visited = 0u64;
        let mut last: Option<u32> = None;
        for_each_mapped_run(&segs, |first, end, _| {
            assert!(
                first <= end && last.is_none_or(|l| first > l),
                "lines out of order"
            );
            last = Some(end);
            visited += u64::from(end - first) + 1;
        });
        assert_eq!(visited, mapped);
    }
    let _ = f.group_start();
    Ok(Some(function_summary(&f)))
}

/// `profraw_parse`: a raw profile; every profile that decodes must encode
/// back to one that decodes to the same records and counters. Returns the
/// number of profiles.
pub fn profraw_parse(data: &[u8]) -> Result<usize> {
    let profiles = profraw::parse(data)?;
    for p in &profiles {
        let funcs = &p.data;
        let Ok(total) = u32::try_from(p.counters.len()) else {
            continue;
        };
        let counters = profraw::counters_for(p, funcs, total).expect("a profile matches itself");
        let id = p.binary_ids.first().map(Vec::as_slice);
        let again = profraw::encode(id, funcs, &counters, &p.names);
        let back = profraw::parse(&again).expect("an encoded raw profile decodes");
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].data, p.data);
        assert_eq!(back[0].counters, p.counters);
        assert_eq!(back[0].names, p.names);
    }
    Ok(profiles.len())
}

/// `crate_of`: a mangled name (lossily UTF-8). Returns the crate name.
pub fn crate_of(data: &[u8]) -> String {
    let name = String::from_utf8_lossy(data);
    let _ = report::strip_generic_args(&report::demangle(&name));
    crate_of_name(&name)
}

/// The contents of a `covdir_report` input: chunks of `u32 LE length,
/// bytes` in this order (a chunk whose length overruns the input takes the
/// rest; missing chunks are empty):
///
/// 0. `__llvm_prf_names`
/// 1. `__llvm_covmap`
/// 2. `__llvm_covfun`
/// 3. the function table: `total counters u32`, then entries of
///    `NameRef u64, FuncHash u64, first counter u32, counter count u32`
/// 4. counter values, `u64` LE each, for counters 0, 1, ...
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Covdir {
    /// The meta file's contents (ident is fixed).
    pub meta: MetaBuilder,
    /// Dense counter values (only the non-zero ones below the total are
    /// written).
    pub counters: Vec<u64>,
}

/// Splits `data` into length-prefixed chunks.
pub fn chunks(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 4 {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        rest = &rest[4..];
        let n = len.min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

/// Joins chunks for [`chunks`].
pub fn join(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
    }
    out
}

impl Covdir {
    /// Decodes a `covdir_report` input.
    pub fn from_bytes(data: &[u8]) -> Covdir {
        let c = chunks(data);
        let part = |i: usize| c.get(i).copied().unwrap_or(&[]);
        let table = part(3);
        let total_counters = table
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()));
        let funcs = table
            .get(4..)
            .unwrap_or(&[])
            .chunks_exact(24)
            .map(|e| FuncEntry {
                name_ref: u64::from_le_bytes(e[0..8].try_into().unwrap()),
                func_hash: u64::from_le_bytes(e[8..16].try_into().unwrap()),
                first_counter: u32::from_le_bytes(e[16..20].try_into().unwrap()),
                num_counters: u32::from_le_bytes(e[20..24].try_into().unwrap()),
            })
            .collect();
        let counters = part(4)
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
            .collect();
        Covdir {
            meta: MetaBuilder {
                ident: vec![
                    ("machine".into(), "x86_64".into()),
                    ("class".into(), "elf64".into()),
                    ("build-id".into(), "0123456789abcdef".into()),
                    ("writer".into(), "covwrap fuzz".into()),
                ],
                funcs,
                total_counters,
                names: part(0).to_vec(),
                covmap: part(1).to_vec(),
                covfun: part(2).to_vec(),
                build_time_ns: None,
            },
            counters,
        }
    }

    /// Encodes a `covdir_report` input.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut table = self.meta.total_counters.to_le_bytes().to_vec();
        for f in &self.meta.funcs {
            table.extend_from_slice(&f.name_ref.to_le_bytes());
            table.extend_from_slice(&f.func_hash.to_le_bytes());
            table.extend_from_slice(&f.first_counter.to_le_bytes());
            table.extend_from_slice(&f.num_counters.to_le_bytes());
        }
        let counters: Vec<u8> = self.counters.iter().flat_map(|c| c.to_le_bytes()).collect();
        join(&[
            &self.meta.names,
            &self.meta.covmap,
            &self.meta.covfun,
            &table,
            &counters,
        ])
    }

    /// Writes the meta file and two counter files with the same counters
    /// into `dir` (emptied first).
    pub fn write(&self, dir: &Path) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        std::fs::create_dir_all(dir).unwrap();
        let (bytes, hash) = self.meta.encode();
        std::fs::write(dir.join(meta_file_name(&hash)), bytes).unwrap();
        let total = self.meta.total_counters;
        let entries: Vec<(u32, u64)> = self
            .counters
            .iter()
            .enumerate()
            .filter(|(i, v)| **v != 0 && (*i as u64) < u64::from(total))
            .map(|(i, v)| (i as u32, *v))
            .collect();
        for pid in [1, 2] {
            let header = CountersHeader {
                flags: 0,
                meta_hash: hash,
                pid,
                start_ns: 1_700_000_000_000_000_000,
                write_ns: 1_700_000_001_000_000_000 + pid,
                num_counters: total,
                end: end_reason::EXIT,
                runs: 1,
            };
            let args = [
                ("argv".to_string(), "./fuzz".to_string()),
                ("exe".to_string(), "/fuzz".to_string()),
            ];
            let file = encode_counters(&header, &args, entries.iter().copied());
            std::fs::write(
                dir.join(counters_file_name(&hash, pid, header.write_ns)),
                file,
            )
            .unwrap();
        }
    }
}

/// Bytes a report may write in `covdir_report`: `lcov` writes one line per
/// mapped line, and a region can span 2^32 lines.
const OUTPUT_LIMIT: usize = 16 << 20;

/// A sink that takes that many bytes, then fails.
struct Limited(usize);

impl io::Write for Limited {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.0 {
            return Err(io::Error::other("output limit"));
        }
        self.0 -= buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `covdir_report`: writes the input as a COVDIR into `dir`, loads it with
/// `load_coverage` and runs every report into a sink (twice: plain, and
/// mangled with a `--pkg` filter), and checks that each pod's raw profile
/// decodes back to its counters. Returns the number of functions.
pub fn covdir_report(data: &[u8], dir: &Path) -> Result<usize> {
    Covdir::from_bytes(data).write(dir);
    let cov = covdata::load_coverage(&[PathBuf::from(dir)], false)?;
    for (mangled, pkg) in [(false, ""), (true, "*a*,f?z*")] {
        let opts = ReportOptions {
            crates: CrateFilter::parse(pkg),
            root: None,
            mangled,
            ..ReportOptions::default()
        };
        let ctx = Context::new(&cov, opts);
        type Writer = fn(&Context, &mut dyn io::Write) -> io::Result<()>;
        let writers: [Writer; 9] = [
            report::lcov::write,
            report::textfmt::write,
            report::percent::write,
            report::func::write,
            report::pkglist::write,
            report::debugdump::write,
            report::cobertura::write,
            report::sonar::write,
            report::json::write,
        ];
        for write in writers {
            match write(&ctx, &mut Limited(OUTPUT_LIMIT)) {
                Ok(()) => {}
                Err(e) => assert_eq!(e.to_string(), "output limit", "{e}"),
            }
        }
        let _ = ctx.totals();
    }
    for pod in &cov.pods {
        let id = pod.ident_value("build-id").and_then(profraw::parse_hex);
        let bytes = profraw::encode(id.as_deref(), &pod.funcs, &pod.counters, pod.llvm_names());
        let back = profraw::parse(&bytes).expect("covdata's raw profile decodes");
        let total = u32::try_from(pod.counters.len()).unwrap();
        let counters = profraw::counters_for(&back[0], &pod.funcs, total)
            .expect("covdata's raw profile matches its pod");
        assert_eq!(counters, pod.counters);
    }
    Ok(cov.functions.len())
}
