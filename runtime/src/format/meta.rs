//! covmeta files: encoder ([`MetaBuilder`]) and decoder ([`MetaFile`]).
//!
//! A meta file describes one instrumented binary completely: LLVM's coverage
//! mapping and name table verbatim, plus a function table that places each
//! function's counters in the binary's counter array. Its name and header
//! carry H, the MD5 of the file with the H field read as zeros.

use super::bytes::{le_u32, le_u64, pad8, Reader};
use super::defs::{
    MetaHash, SectionKind, BUILD_TIME_LEN, BUILD_TIME_SECTION, FUNCS_HEADER_LEN, FUNC_ENTRY_LEN,
    META_HASH_RANGE, META_HEADER_LEN, META_MAGIC, META_MIN_VERSION, META_SECTION_ENTRY_LEN,
    META_VERSION,
};
use super::error::{ErrorKind, FormatError, Result};
use super::kv;
use super::md5::Md5;

/// One function's entry in the Funcs section: an `__llvm_prf_data` record
/// reduced to what coverage needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FuncEntry {
    /// MD5 of the mangled name (LLVM's NameRef).
    pub name_ref: u64,
    /// rustc's structural hash of the function (LLVM's FuncHash).
    pub func_hash: u64,
    /// Index of the function's first counter in the binary's counter array.
    pub first_counter: u32,
    /// Number of counters; never 0.
    pub num_counters: u32,
}

/// Everything a meta file holds, ready to encode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetaBuilder {
    /// Build identity, see [`super::defs::ident_keys`].
    pub ident: Vec<(String, String)>,
    /// Function table, in `__llvm_prf_data` order.
    pub funcs: Vec<FuncEntry>,
    /// Length of the binary's counter array.
    pub total_counters: u32,
    /// `__llvm_prf_names`, verbatim.
    pub names: Vec<u8>,
    /// `__llvm_covmap`, verbatim.
    pub covmap: Vec<u8>,
    /// `__llvm_covfun`, verbatim.
    pub covfun: Vec<u8>,
    /// When the binary was linked, ns since the Unix epoch; not covered by H.
    pub build_time_ns: Option<u64>,
}

impl MetaBuilder {
    /// Encodes a meta file with this one module; returns its bytes and H.
    pub fn encode(&self) -> (Vec<u8>, MetaHash) {
        encode_modules(std::slice::from_ref(self))
    }

    /// The sections of this module, as (kind, bytes): the five every
    /// module has, then the build time when known.
    fn sections(&self) -> Vec<(u32, Vec<u8>)> {
        let mut ident = Vec::new();
        kv::encode(&self.ident, &mut ident);
        let mut funcs = Vec::with_capacity(FUNCS_HEADER_LEN + self.funcs.len() * FUNC_ENTRY_LEN);
        funcs.extend_from_slice(&(self.funcs.len() as u32).to_le_bytes());
        funcs.extend_from_slice(&self.total_counters.to_le_bytes());
        for f in &self.funcs {
            funcs.extend_from_slice(&f.name_ref.to_le_bytes());
            funcs.extend_from_slice(&f.func_hash.to_le_bytes());
            funcs.extend_from_slice(&f.first_counter.to_le_bytes());
            funcs.extend_from_slice(&f.num_counters.to_le_bytes());
        }
        let mut out = vec![
            (SectionKind::Ident as u32, ident),
            (SectionKind::Funcs as u32, funcs),
            (SectionKind::LlvmNames as u32, self.names.clone()),
            (SectionKind::LlvmCovmap as u32, self.covmap.clone()),
            (SectionKind::LlvmCovfun as u32, self.covfun.clone()),
        ];
        if let Some(t) = self.build_time_ns {
            out.push((BUILD_TIME_SECTION, t.to_le_bytes().to_vec()));
        }
        out
    }
}

/// Encodes a meta file holding `modules` in order (the counter array of the
/// binary they describe together is their arrays, concatenated); returns
/// its bytes and H. A process's meta file has one module; `covdata merge
/// --pcombine` writes one per binary it combines.
pub fn encode_modules(modules: &[MetaBuilder]) -> (Vec<u8>, MetaHash) {
    let sections: Vec<(u32, u32, Vec<u8>)> = modules
        .iter()
        .enumerate()
        .flat_map(|(m, b)| b.sections().into_iter().map(move |(k, d)| (k, m as u32, d)))
        .collect();
    let refs: Vec<(u32, u32, &[u8])> = sections
        .iter()
        .map(|(k, m, d)| (*k, *m, d.as_slice()))
        .collect();
    encode_sections(&refs)
}

/// Lays out `(kind, module, bytes)` sections after the header and section
/// table, 8-aligned, and fills in the length and H.
fn encode_sections(sections: &[(u32, u32, &[u8])]) -> (Vec<u8>, MetaHash) {
    let table_end = META_HEADER_LEN + sections.len() * META_SECTION_ENTRY_LEN;
    let mut offsets = Vec::with_capacity(sections.len());
    let mut end = table_end + pad8(table_end);
    for (_, _, data) in sections {
        offsets.push(end);
        end += data.len();
        end += pad8(end);
    }
    let mut out = Vec::with_capacity(end);
    out.extend_from_slice(&META_MAGIC);
    out.extend_from_slice(&META_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&(end as u64).to_le_bytes());
    out.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for ((kind, module, data), off) in sections.iter().zip(&offsets) {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&module.to_le_bytes());
        out.extend_from_slice(&(*off as u64).to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    }
    for ((_, _, data), off) in sections.iter().zip(&offsets) {
        out.resize(*off, 0);
        out.extend_from_slice(data);
    }
    out.resize(end, 0);
    let hash = content_hash(&out);
    out[META_HASH_RANGE].copy_from_slice(&hash);
    (out, hash)
}

/// H of a meta file: MD5 of `file` with the H field and the contents of
/// build-time sections read as zeros, so H depends on the code and the
/// build identity, not on when the binary was linked.
pub fn content_hash(file: &[u8]) -> MetaHash {
    let mut zeroed = vec![META_HASH_RANGE];
    zeroed.extend(build_time_ranges(file));
    zeroed.sort_by_key(|r| r.start);
    let mut h = Md5::new();
    let mut at = 0;
    for r in zeroed {
        if r.start < at {
            continue;
        }
        h.update(&file[at..r.start]);
        h.update(&[0; 16][..r.len()]);
        at = r.end;
    }
    h.update(&file[at..]);
    h.finish()
}

/// Where the build-time sections' contents are, for sections the table
/// places entirely inside `file` with the right length (others are
/// rejected by [`MetaFile::parse`] anyway).
fn build_time_ranges(file: &[u8]) -> Vec<std::ops::Range<usize>> {
    if file.len() < META_HEADER_LEN {
        return Vec::new();
    }
    let count = le_u32(file, 40) as usize;
    let mut out = Vec::new();
    for i in 0..count {
        let at = META_HEADER_LEN + i * META_SECTION_ENTRY_LEN;
        if at + META_SECTION_ENTRY_LEN > file.len() {
            break;
        }
        let (kind, off, len) = (
            le_u32(file, at),
            le_u64(file, at + 8),
            le_u64(file, at + 16),
        );
        if kind == BUILD_TIME_SECTION
            && len == BUILD_TIME_LEN as u64
            && off >= META_HEADER_LEN as u64
            && off.saturating_add(len) <= file.len() as u64
        {
            out.push(off as usize..(off + len) as usize);
        }
    }
    out
}

/// A decoded, validated meta file borrowing its bytes.
#[derive(Clone, Debug)]
pub struct MetaFile<'a> {
    hash: MetaHash,
    modules: Vec<MetaModule<'a>>,
}

/// One binary's coverage data inside a meta file.
#[derive(Clone, Debug)]
pub struct MetaModule<'a> {
    ident: Vec<(String, String)>,
    funcs: &'a [u8],
    total_counters: u32,
    counter_base: u32,
    names: &'a [u8],
    covmap: &'a [u8],
    covfun: &'a [u8],
    build_time_ns: Option<u64>,
}

impl<'a> MetaFile<'a> {
    /// Decodes and validates `data`: magic, version, length, H, the section
    /// table and every module's function table.
    pub fn parse(data: &'a [u8]) -> Result<MetaFile<'a>> {
        MetaFile::parse_checking(data, true)
    }

    /// [`MetaFile::parse`] without checking H against the content, for a
    /// reader that checks it meanwhile with [`MetaFile::check_hash`]
    /// (hashing is most of the time a parse takes). On error, [`parse`]
    /// gives the error to report: it checks H before the sections.
    ///
    /// [`parse`]: MetaFile::parse
    #[cfg(not(covwrap_embedded))]
    pub fn parse_unchecked(data: &'a [u8]) -> Result<MetaFile<'a>> {
        MetaFile::parse_checking(data, false)
    }

    /// Whether H, as stored in `data`, is the hash of its content: the
    /// check [`MetaFile::parse`] makes and [`MetaFile::parse_unchecked`]
    /// leaves out. `data` must have passed `parse_unchecked`.
    pub fn check_hash(data: &[u8]) -> Result<()> {
        if content_hash(data)[..] != data[META_HASH_RANGE] {
            return Err(FormatError::corrupt("content does not match its hash"));
        }
        Ok(())
    }

    fn parse_checking(data: &'a [u8], check_hash: bool) -> Result<MetaFile<'a>> {
        if data.len() < META_MAGIC.len() || data[..8] != META_MAGIC {
            return Err(FormatError::new(ErrorKind::BadMagic, "not a covmeta file"));
        }
        if data.len() < META_HEADER_LEN {
            return Err(FormatError::truncated(format!(
                "{} bytes, shorter than the {META_HEADER_LEN}-byte header",
                data.len()
            )));
        }
        let version = le_u32(data, 8);
        if !(META_MIN_VERSION..=META_VERSION).contains(&version) {
            return Err(FormatError::new(
                ErrorKind::UnsupportedVersion(version),
                format!(
                    "covmeta version {version}; this build reads versions {META_MIN_VERSION} to {META_VERSION}"
                ),
            ));
        }
        let flags = le_u32(data, 12);
        if flags != 0 {
            return Err(FormatError::new(
                ErrorKind::Unsupported,
                format!("covmeta flags {flags:#x} are not known to this build"),
            ));
        }
        let stored_len = le_u64(data, 32);
        if stored_len != data.len() as u64 {
            let kind = if stored_len > data.len() as u64 {
                ErrorKind::Truncated
            } else {
                ErrorKind::Corrupt
            };
            return Err(FormatError::new(
                kind,
                format!("header says {stored_len} bytes, file has {}", data.len()),
            ));
        }
        let mut hash = [0u8; 16];
        hash.copy_from_slice(&data[META_HASH_RANGE]);
        if check_hash {
            MetaFile::check_hash(data)?;
        }
        let count = le_u32(data, 40) as usize;
        let table_len = count
            .checked_mul(META_SECTION_ENTRY_LEN)
            .filter(|n| META_HEADER_LEN + n <= data.len())
            .ok_or_else(|| {
                FormatError::corrupt(format!("section count {count} overruns the file"))
            })?;
        // Per module, the five known sections in kind order.
        let mut found: Vec<[Option<&'a [u8]>; 5]> = Vec::new();
        let mut times: Vec<Option<u64>> = Vec::new();
        let mut table = Reader::new(
            &data[META_HEADER_LEN..META_HEADER_LEN + table_len],
            "section table",
        );
        for _ in 0..count {
            let kind = table.u32()?;
            let module = table.u32()? as usize;
            let off = table.u64()?;
            let len = table.u64()?;
            let end = off
                .checked_add(len)
                .filter(|end| *end <= data.len() as u64 && off % 8 == 0)
                .ok_or_else(|| {
                    FormatError::corrupt(format!(
                        "section kind {kind} at offset {off} length {len} is misplaced"
                    ))
                })?;
            let known = SectionKind::from_u32(kind);
            if known.is_none() && kind != BUILD_TIME_SECTION {
                continue;
            }
            // Modules are numbered densely from 0, so a module index is
            // bounded by the number of entries.
            if module >= count {
                return Err(FormatError::corrupt(format!(
                    "module index {module} out of range"
                )));
            }
            let Some(kind) = known else {
                if len != BUILD_TIME_LEN as u64 {
                    return Err(FormatError::corrupt(format!(
                        "build-time section of {len} bytes in module {module}"
                    )));
                }
                if times.len() <= module {
                    times.resize(module + 1, None);
                }
                if times[module].is_some() {
                    return Err(FormatError::corrupt(format!(
                        "duplicate build-time section in module {module}"
                    )));
                }
                times[module] = Some(le_u64(data, off as usize));
                continue;
            };
            if found.len() <= module {
                found.resize(module + 1, [None; 5]);
            }
            let slot = &mut found[module][kind as usize - 1];
            if slot.is_some() {
                return Err(FormatError::corrupt(format!(
                    "duplicate {} section in module {module}",
                    kind.name()
                )));
            }
            *slot = Some(&data[off as usize..end as usize]);
        }
        if found.is_empty() {
            return Err(FormatError::corrupt("no modules"));
        }
        if times.len() > found.len() {
            return Err(FormatError::corrupt(format!(
                "build-time section for module {} without its other sections",
                times.len() - 1
            )));
        }
        let mut modules = Vec::with_capacity(found.len());
        let mut counter_base: u64 = 0;
        for (m, sections) in found.iter().enumerate() {
            let section = |kind: SectionKind| {
                sections[kind as usize - 1].ok_or_else(|| {
                    let which = if found.len() == 1 {
                        String::new()
                    } else {
                        format!(" in module {m}")
                    };
                    FormatError::corrupt(format!("missing {} section{which}", kind.name()))
                })
            };
            let (funcs, total_counters) = validate_funcs(section(SectionKind::Funcs)?)?;
            let base = u32::try_from(counter_base)
                .map_err(|_| FormatError::corrupt("more than 2^32 counters in all modules"))?;
            counter_base += u64::from(total_counters);
            modules.push(MetaModule {
                ident: kv::decode(section(SectionKind::Ident)?, "ident section")?,
                funcs,
                total_counters,
                counter_base: base,
                names: section(SectionKind::LlvmNames)?,
                covmap: section(SectionKind::LlvmCovmap)?,
                covfun: section(SectionKind::LlvmCovfun)?,
                build_time_ns: times.get(m).copied().flatten(),
            });
        }
        u32::try_from(counter_base)
            .map_err(|_| FormatError::corrupt("more than 2^32 counters in all modules"))?;
        // Every counter is referenced by the coverage mapping the file
        // carries, which takes at least a byte per reference; a larger
        // count would only make readers allocate the counter array.
        if counter_base > data.len() as u64 {
            return Err(FormatError::corrupt(format!(
                "{counter_base} counters in a file of {} bytes",
                data.len()
            )));
        }
        Ok(MetaFile { hash, modules })
    }

    /// H, as stored (and verified).
    pub fn hash(&self) -> MetaHash {
        self.hash
    }

    /// The modules, in order; one for a meta file written by a process.
    pub fn modules(&self) -> &[MetaModule<'a>] {
        &self.modules
    }

    /// Length of the counter array of all modules together.
    pub fn total_counters(&self) -> u32 {
        self.modules.iter().map(|m| m.total_counters).sum()
    }

    /// The first value of an ident key in the first module.
    pub fn ident_value(&self, key: &str) -> Option<&str> {
        self.modules[0].ident_value(key)
    }

    /// The contents as builders, one per module, e.g. to write a filtered copy.
    pub fn to_builders(&self) -> Vec<MetaBuilder> {
        self.modules.iter().map(MetaModule::to_builder).collect()
    }
}

impl<'a> MetaModule<'a> {
    /// Build identity pairs.
    pub fn ident(&self) -> &[(String, String)] {
        &self.ident
    }

    /// The first value of an Ident key.
    pub fn ident_value(&self, key: &str) -> Option<&str> {
        self.ident
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Number of function-table entries.
    pub fn num_funcs(&self) -> usize {
        self.funcs.len() / FUNC_ENTRY_LEN
    }

    /// Length of this module's counter array.
    pub fn total_counters(&self) -> u32 {
        self.total_counters
    }

    /// Index of this module's first counter in the meta file's counter
    /// array (the sum of the earlier modules' counts).
    pub fn counter_base(&self) -> u32 {
        self.counter_base
    }

    /// Function-table entries, in `__llvm_prf_data` order; `first_counter`
    /// is relative to this module's counters.
    pub fn funcs(&self) -> impl ExactSizeIterator<Item = FuncEntry> + 'a {
        self.funcs.chunks_exact(FUNC_ENTRY_LEN).map(func_entry)
    }

    /// `__llvm_prf_names`, verbatim.
    pub fn llvm_names(&self) -> &'a [u8] {
        self.names
    }

    /// `__llvm_covmap`, verbatim.
    pub fn llvm_covmap(&self) -> &'a [u8] {
        self.covmap
    }

    /// `__llvm_covfun`, verbatim.
    pub fn llvm_covfun(&self) -> &'a [u8] {
        self.covfun
    }

    /// When the binary was linked (ns since the Unix epoch), if recorded.
    pub fn build_time_ns(&self) -> Option<u64> {
        self.build_time_ns
    }

    /// The contents as a builder.
    pub fn to_builder(&self) -> MetaBuilder {
        MetaBuilder {
            ident: self.ident.clone(),
            funcs: self.funcs().collect(),
            total_counters: self.total_counters,
            names: self.names.to_vec(),
            covmap: self.covmap.to_vec(),
            covfun: self.covfun.to_vec(),
            build_time_ns: self.build_time_ns,
        }
    }
}

fn func_entry(chunk: &[u8]) -> FuncEntry {
    FuncEntry {
        name_ref: le_u64(chunk, 0),
        func_hash: le_u64(chunk, 8),
        first_counter: le_u32(chunk, 16),
        num_counters: le_u32(chunk, 20),
    }
}

/// Checks the Funcs section and returns its entry bytes and counter total.
fn validate_funcs(section: &[u8]) -> Result<(&[u8], u32)> {
    if section.len() < FUNCS_HEADER_LEN {
        return Err(FormatError::truncated(
            "funcs section shorter than its header",
        ));
    }
    let count = le_u32(section, 0) as usize;
    let total = le_u32(section, 4);
    let body = &section[FUNCS_HEADER_LEN..];
    if count.checked_mul(FUNC_ENTRY_LEN) != Some(body.len()) {
        return Err(FormatError::corrupt(format!(
            "funcs section holds {} bytes for {count} entries",
            body.len()
        )));
    }
    for (i, chunk) in body.chunks_exact(FUNC_ENTRY_LEN).enumerate() {
        let f = func_entry(chunk);
        let end = u64::from(f.first_counter) + u64::from(f.num_counters);
        if f.num_counters == 0 || end > u64::from(total) {
            return Err(FormatError::corrupt(format!(
                "function {i} has counters {}..{end} outside the {total} counters",
                f.first_counter
            )));
        }
    }
    Ok((body, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MetaBuilder {
        MetaBuilder {
            ident: vec![
                ("machine".into(), "x86_64".into()),
                ("build-id".into(), "abcd".into()),
            ],
            funcs: vec![
                FuncEntry {
                    name_ref: 1,
                    func_hash: 2,
                    first_counter: 0,
                    num_counters: 3,
                },
                FuncEntry {
                    name_ref: 4,
                    func_hash: 5,
                    first_counter: 3,
                    num_counters: 1,
                },
            ],
            total_counters: 4,
            names: b"\x05\x00hello".to_vec(),
            covmap: vec![7; 13],
            covfun: vec![9; 40],
            build_time_ns: None,
        }
    }

    #[test]
    fn round_trip() {
        let b = sample();
        let (bytes, hash) = b.encode();
        assert_eq!(bytes.len() % 8, 0);
        let m = MetaFile::parse(&bytes).unwrap();
        assert_eq!(m.hash(), hash);
        assert_eq!(m.to_builders(), vec![b]);
        assert_eq!(m.ident_value("machine"), Some("x86_64"));
        assert_eq!(m.modules()[0].num_funcs(), 2);
    }

    #[test]
    fn encoding_is_deterministic_and_content_addressed() {
        let (a, ha) = sample().encode();
        let (b, hb) = sample().encode();
        assert_eq!(a, b);
        assert_eq!(ha, hb);
        let mut other = sample();
        other.covfun[3] = 1;
        assert_ne!(other.encode().1, ha);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let (bytes, _) = sample().encode();
        for len in 0..bytes.len() {
            assert!(
                MetaFile::parse(&bytes[..len]).is_err(),
                "prefix of {len} bytes accepted"
            );
        }
    }

    #[test]
    fn every_bit_flip_is_detected() {
        let (bytes, _) = sample().encode();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert!(MetaFile::parse(&bad).is_err(), "flip at byte {i} accepted");
        }
    }

    #[test]
    fn reports_wrong_magic_and_future_version() {
        let (mut bytes, _) = sample().encode();
        assert_eq!(
            MetaFile::parse(b"\0cvm1234whatever").unwrap_err().kind(),
            &ErrorKind::BadMagic
        );
        bytes[8] = 9;
        let err = MetaFile::parse(&bytes).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::UnsupportedVersion(9));
        assert!(err.to_string().contains("version 9"), "{err}");
    }

    #[test]
    fn build_time_round_trips_outside_h() {
        let mut b = sample();
        let (_, without) = b.encode();
        b.build_time_ns = Some(1_700_000_000_123_456_789);
        let (bytes, early) = b.encode();
        let m = MetaFile::parse(&bytes).unwrap();
        assert_eq!(m.modules()[0].build_time_ns(), b.build_time_ns);
        assert_eq!(m.to_builders(), vec![b.clone()]);
        b.build_time_ns = Some(1_800_000_000_000_000_000);
        let (later_bytes, later) = b.encode();
        // Same code, another link time: the same H (and file name), but
        // not the same file as a build without a build time.
        assert_eq!(early, later);
        assert_ne!(early, without);
        assert_eq!(MetaFile::parse(&later_bytes).unwrap().hash(), early);
        // Every byte but the build time's is still covered by H.
        let time_at = build_time_ranges(&bytes)[0].clone();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            let parsed = MetaFile::parse(&bad);
            assert_eq!(parsed.is_ok(), time_at.contains(&i), "flip at byte {i}");
        }
    }

    #[test]
    fn version_1_files_still_load() {
        let (mut bytes, _) = sample().encode();
        bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
        let hash = content_hash(&bytes);
        bytes[META_HASH_RANGE].copy_from_slice(&hash);
        let m = MetaFile::parse(&bytes).unwrap();
        assert_eq!(m.modules()[0].build_time_ns(), None);
        assert_eq!(m.to_builders(), vec![sample()]);
    }

    #[test]
    fn bad_build_time_sections_are_corrupt() {
        let mut sections = sample_sections();
        sections.push((BUILD_TIME_SECTION, 0, vec![1; 4]));
        let refs: Vec<(u32, u32, &[u8])> = sections
            .iter()
            .map(|(k, m, d)| (*k, *m, d.as_slice()))
            .collect();
        let (bytes, _) = encode_sections(&refs);
        assert!(MetaFile::parse(&bytes)
            .unwrap_err()
            .to_string()
            .contains("build-time"));
        let mut sections = sample_sections();
        sections.push((BUILD_TIME_SECTION, 0, vec![1; 8]));
        sections.push((BUILD_TIME_SECTION, 0, vec![2; 8]));
        let refs: Vec<(u32, u32, &[u8])> = sections
            .iter()
            .map(|(k, m, d)| (*k, *m, d.as_slice()))
            .collect();
        let (bytes, _) = encode_sections(&refs);
        let err = MetaFile::parse(&bytes).unwrap_err().to_string();
        assert!(err.contains("duplicate build-time"), "{err}");
    }

    /// The sections of `sample()` as (kind, module, bytes), to re-lay out by hand.
    fn sample_sections() -> Vec<(u32, u32, Vec<u8>)> {
        let (bytes, _) = sample().encode();
        let count = le_u32(&bytes, 40) as usize;
        (0..count)
            .map(|i| {
                let e = META_HEADER_LEN + i * META_SECTION_ENTRY_LEN;
                let (off, len) = (
                    le_u64(&bytes, e + 8) as usize,
                    le_u64(&bytes, e + 16) as usize,
                );
                (
                    le_u32(&bytes, e),
                    le_u32(&bytes, e + 4),
                    bytes[off..off + len].to_vec(),
                )
            })
            .collect()
    }

    fn refs(sections: &[(u32, u32, Vec<u8>)]) -> Vec<(u32, u32, &[u8])> {
        sections
            .iter()
            .map(|(k, m, d)| (*k, *m, d.as_slice()))
            .collect()
    }

    #[test]
    fn several_modules_round_trip_with_consecutive_counter_bases() {
        let mut second = sample();
        second.ident[1].1 = "ef01".into();
        second.total_counters = 7;
        second.funcs[1].num_counters = 4;
        let (bytes, hash) = encode_modules(&[sample(), second.clone()]);
        let m = MetaFile::parse(&bytes).unwrap();
        assert_eq!(m.hash(), hash);
        assert_eq!(m.modules().len(), 2);
        assert_eq!(m.total_counters(), 4 + 7);
        assert_eq!(m.modules()[1].counter_base(), 4);
        assert_eq!(m.to_builders(), vec![sample(), second]);
    }

    #[test]
    fn unknown_sections_are_skipped() {
        let mut sections = sample_sections();
        sections.insert(2, (77, 0, b"from a future writer".to_vec()));
        let (bytes, _) = encode_sections(&refs(&sections));
        assert_eq!(
            MetaFile::parse(&bytes).unwrap().to_builders(),
            vec![sample()]
        );
    }

    #[test]
    fn missing_and_duplicate_sections_are_named() {
        let sections = sample_sections();
        let without_funcs: Vec<(u32, u32, Vec<u8>)> = sections
            .iter()
            .filter(|(k, _, _)| *k != SectionKind::Funcs as u32)
            .cloned()
            .collect();
        let err = MetaFile::parse(&encode_sections(&refs(&without_funcs)).0).unwrap_err();
        assert!(err.to_string().contains("missing funcs"), "{err}");
        let mut doubled = sections.clone();
        doubled.push(doubled[0].clone());
        let err = MetaFile::parse(&encode_sections(&refs(&doubled)).0).unwrap_err();
        assert!(err.to_string().contains("duplicate ident"), "{err}");
        let mut gap = sections.clone();
        gap.iter_mut().for_each(|s| s.1 = 1);
        let err = MetaFile::parse(&encode_sections(&refs(&gap)).0).unwrap_err();
        assert!(
            err.to_string()
                .contains("missing funcs section in module 0"),
            "{err}"
        );
    }
}
