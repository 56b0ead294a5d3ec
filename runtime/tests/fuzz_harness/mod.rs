//! The code paths of the runtime's fuzz targets (`fuzz/fuzz_targets/`:
//! `meta_parse`, `counters_parse`, `elf_build_meta`, `dense_parse`), shared with
//! `tests/fuzz_regressions.rs` so that a saved input is replayed through
//! exactly the code that found it. Each function returns what the decoder
//! under test returned; none may panic, and the properties they assert
//! (a decoded file re-encodes to an equal one) are part of the check.

#![allow(dead_code)]

use covwrap_rt::format::counters::{encode as encode_counters, CountersFile};
use covwrap_rt::format::crc32::crc32;
use covwrap_rt::format::defs::{
    COUNTERS_END_MAGIC, COUNTERS_FOOTER_LEN, COUNTERS_HEADER_LEN, COUNTERS_MAGIC, META_HASH_RANGE,
    META_HEADER_LEN, META_MAGIC,
};
use covwrap_rt::format::dense::{self, DenseFile};
use covwrap_rt::format::elf::Elf;
use covwrap_rt::format::from_elf::{build_meta, find_slot};
use covwrap_rt::format::meta::{content_hash, encode_modules, MetaFile};
use covwrap_rt::format::names::parse_file_name;
use covwrap_rt::format::{kv, leb128, Result};

/// `data` with a consistent length field and H when it starts like a meta
/// file, so that mutations get past the integrity check into the section
/// table and the sections.
pub fn seal_meta(data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    if d.len() >= META_HEADER_LEN && d[..8] == META_MAGIC {
        let len = d.len() as u64;
        d[32..40].copy_from_slice(&len.to_le_bytes());
        let hash = content_hash(&d);
        d[META_HASH_RANGE].copy_from_slice(&hash);
    }
    d
}

/// `data` with a valid footer (length, CRC-32, end magic) when it starts
/// like a counter file.
pub fn seal_counters(data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    if d.len() >= COUNTERS_HEADER_LEN + COUNTERS_FOOTER_LEN && d[..8] == COUNTERS_MAGIC {
        let n = d.len();
        d[n - 16..n - 8].copy_from_slice(&(n as u64).to_le_bytes());
        let crc = crc32(&d[..n - 8]);
        d[n - 8..n - 4].copy_from_slice(&crc.to_le_bytes());
        d[n - 4..].copy_from_slice(&COUNTERS_END_MAGIC);
    }
    d
}

/// The small decoders that take any bytes.
fn small_decoders(data: &[u8]) {
    let _ = kv::decode(data, "fuzz");
    let mut pos = 0;
    while leb128::decode(data, &mut pos).is_some() {}
    let _ = parse_file_name(&String::from_utf8_lossy(data));
}

/// `meta_parse`: the input as is, then sealed; a sealed file that decodes
/// must re-encode to a file that decodes to the same modules. Returns the
/// number of functions.
pub fn meta_parse(data: &[u8]) -> Result<usize> {
    small_decoders(data);
    let _ = MetaFile::parse(data);
    let sealed = seal_meta(data);
    let meta = MetaFile::parse(&sealed)?;
    let mut funcs = 0;
    for m in meta.modules() {
        funcs += m.funcs().count();
        let _ = (
            m.ident_value("machine"),
            m.counter_base(),
            m.total_counters(),
        );
    }
    let _ = meta.total_counters();
    let builders = meta.to_builders();
    let (bytes, hash) = encode_modules(&builders);
    let again = MetaFile::parse(&bytes).expect("a re-encoded meta file decodes");
    assert_eq!(again.hash(), hash);
    assert_eq!(again.to_builders(), builders);
    Ok(funcs)
}

/// `counters_parse`: the input as is, then sealed; a sealed file that
/// decodes must re-encode to the same header, args and non-zero entries.
/// Returns the number of entries.
pub fn counters_parse(data: &[u8]) -> Result<usize> {
    let _ = CountersFile::parse(data);
    let sealed = seal_counters(data);
    let file = CountersFile::parse(&sealed)?;
    let header = *file.header();
    let entries: Vec<(u32, u64)> = file.entries().collect();
    assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(entries.iter().all(|(i, _)| *i < header.num_counters));
    if header.num_counters <= 1 << 16 {
        let mut dense = vec![0u64; header.num_counters as usize];
        file.add_into(&mut dense);
    }
    let nonzero: Vec<(u32, u64)> = entries.iter().copied().filter(|e| e.1 != 0).collect();
    let again = encode_counters(&header, file.args(), nonzero.iter().copied());
    let back = CountersFile::parse(&again).expect("a re-encoded counter file decodes");
    assert_eq!(*back.header(), header);
    assert_eq!(back.args(), file.args());
    assert_eq!(back.entries().collect::<Vec<_>>(), nonzero);
    Ok(entries.len())
}

/// `elf_build_meta`: the ELF reader, the slot finder and the meta builder
/// on the input as a file; a meta file built from it must decode. Returns
/// the number of functions.
pub fn elf_build_meta(data: &[u8]) -> Result<usize> {
    if let Ok(elf) = Elf::parse(data) {
        for s in &elf.sections {
            let _ = elf.read(data, s);
        }
        let _ = elf.machine_name();
    }
    let _ = find_slot(data);
    let builder = build_meta(data)?;
    let (bytes, hash) = builder.encode();
    let meta = MetaFile::parse(&bytes).expect("the meta file of an ELF decodes");
    assert_eq!(meta.hash(), hash);
    assert_eq!(meta.to_builders(), vec![builder.clone()]);
    Ok(builder.funcs.len())
}

/// `dense_parse`: the dense-file decoder (continuous mode) on any bytes,
/// and what covdata does with a decoded file: convert it into the
/// covcounters file it stands for, which must decode to the same counts;
/// re-encoding it must give back the same header, args and counters.
/// Returns the number of non-zero counters.
pub fn dense_parse(data: &[u8]) -> Result<usize> {
    let file = DenseFile::parse(data)?;
    let header = *file.header();
    let nonzero: Vec<(u32, u64)> = file.nonzero().collect();
    assert!(nonzero.iter().all(|(i, _)| *i < header.num_counters));
    let sparse = encode_counters(
        &file.counters_header(1),
        file.args(),
        nonzero.iter().copied(),
    );
    let back = CountersFile::parse(&sparse).expect("a converted dense file decodes");
    assert_eq!(back.entries().collect::<Vec<_>>(), nonzero);
    assert_eq!(back.args(), file.args());
    if header.num_counters <= 1 << 16 {
        let mut args = Vec::new();
        kv::encode(file.args(), &mut args);
        let again = dense::DenseHeader {
            counters_offset: dense::counters_offset(args.len(), 8) as u64,
            ..header
        };
        let counters: Vec<u64> = (0..header.num_counters as usize)
            .map(|i| file.counter(i))
            .collect();
        let bytes = dense::encode(&again, &args, &counters);
        let round = DenseFile::parse(&bytes).expect("a re-encoded dense file decodes");
        assert_eq!(*round.header(), again);
        assert_eq!(round.args(), file.args());
        assert_eq!(round.nonzero().collect::<Vec<_>>(), nonzero);
    }
    Ok(nonzero.len())
}
