//! covmeta files: encoder ([`MetaBuilder`]) and decoder ([`MetaFile`]).
//!
//! A meta file describes one instrumented binary completely: LLVM's coverage
//! mapping and name table verbatim, plus a function table that places each
//! function's counters in the binary's counter array. Its name and header
//! carry H, the MD5 of the file with the H field read as zeros.

use super::bytes::{le_u32, le_u64, pad8, Reader};
use super::defs::{
    MetaHash, SectionKind, FUNCS_HEADER_LEN, FUNC_ENTRY_LEN, META_HASH_RANGE, META_HEADER_LEN,
    META_MAGIC, META_SECTION_ENTRY_LEN, META_VERSION,
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
}

impl MetaBuilder {
    /// Encodes the file and returns its bytes and H.
    pub fn encode(&self) -> (Vec<u8>, MetaHash) {
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
        let sections: [(u32, &[u8]); 5] = [
            (SectionKind::Ident as u32, &ident),
            (SectionKind::Funcs as u32, &funcs),
            (SectionKind::LlvmNames as u32, &self.names),
            (SectionKind::LlvmCovmap as u32, &self.covmap),
            (SectionKind::LlvmCovfun as u32, &self.covfun),
        ];
        encode_sections(&sections)
    }
}

/// Lays out `sections` after the header and section table, 8-aligned, and
/// fills in the length and H.
fn encode_sections(sections: &[(u32, &[u8])]) -> (Vec<u8>, MetaHash) {
    let table_end = META_HEADER_LEN + sections.len() * META_SECTION_ENTRY_LEN;
    let mut offsets = Vec::with_capacity(sections.len());
    let mut end = table_end + pad8(table_end);
    for (_, data) in sections {
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
    for ((kind, data), off) in sections.iter().zip(&offsets) {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(*off as u64).to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    }
    for ((_, data), off) in sections.iter().zip(&offsets) {
        out.resize(*off, 0);
        out.extend_from_slice(data);
    }
    out.resize(end, 0);
    let hash = content_hash(&out);
    out[META_HASH_RANGE].copy_from_slice(&hash);
    (out, hash)
}

/// H of a meta file: MD5 of `file` with the H field read as zeros.
pub fn content_hash(file: &[u8]) -> MetaHash {
    let mut h = Md5::new();
    h.update(&file[..META_HASH_RANGE.start]);
    h.update(&[0; 16]);
    h.update(&file[META_HASH_RANGE.end..]);
    h.finish()
}

/// A decoded, validated meta file borrowing its bytes.
#[derive(Clone, Debug)]
pub struct MetaFile<'a> {
    hash: MetaHash,
    ident: Vec<(String, String)>,
    funcs: &'a [u8],
    total_counters: u32,
    names: &'a [u8],
    covmap: &'a [u8],
    covfun: &'a [u8],
}

impl<'a> MetaFile<'a> {
    /// Decodes and validates `data`: magic, version, length, H, the section
    /// table and the function table.
    pub fn parse(data: &'a [u8]) -> Result<MetaFile<'a>> {
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
        if version != META_VERSION {
            return Err(FormatError::new(
                ErrorKind::UnsupportedVersion(version),
                format!("covmeta version {version}; this build reads version {META_VERSION}"),
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
        if content_hash(data) != hash {
            return Err(FormatError::corrupt("content does not match its hash"));
        }
        let count = le_u32(data, 40) as usize;
        let table_len = count
            .checked_mul(META_SECTION_ENTRY_LEN)
            .filter(|n| META_HEADER_LEN + n <= data.len())
            .ok_or_else(|| {
                FormatError::corrupt(format!("section count {count} overruns the file"))
            })?;
        let mut found: [Option<&'a [u8]>; 5] = [None; 5];
        let mut table = Reader::new(
            &data[META_HEADER_LEN..META_HEADER_LEN + table_len],
            "section table",
        );
        for _ in 0..count {
            let kind = table.u32()?;
            let _reserved = table.u32()?;
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
            let Some(kind) = SectionKind::from_u32(kind) else {
                continue;
            };
            let slot = &mut found[kind as usize - 1];
            if slot.is_some() {
                return Err(FormatError::corrupt(format!(
                    "duplicate {} section",
                    kind.name()
                )));
            }
            *slot = Some(&data[off as usize..end as usize]);
        }
        let section = |kind: SectionKind| {
            found[kind as usize - 1]
                .ok_or_else(|| FormatError::corrupt(format!("missing {} section", kind.name())))
        };
        let ident = kv::decode(section(SectionKind::Ident)?, "ident section")?;
        let funcs_section = section(SectionKind::Funcs)?;
        let (funcs, total_counters) = validate_funcs(funcs_section)?;
        Ok(MetaFile {
            hash,
            ident,
            funcs,
            total_counters,
            names: section(SectionKind::LlvmNames)?,
            covmap: section(SectionKind::LlvmCovmap)?,
            covfun: section(SectionKind::LlvmCovfun)?,
        })
    }

    /// H, as stored (and verified).
    pub fn hash(&self) -> MetaHash {
        self.hash
    }

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

    /// Length of the binary's counter array.
    pub fn total_counters(&self) -> u32 {
        self.total_counters
    }

    /// Function-table entries, in `__llvm_prf_data` order.
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

    /// The contents as a builder, e.g. to rewrite a filtered copy.
    pub fn to_builder(&self) -> MetaBuilder {
        MetaBuilder {
            ident: self.ident.clone(),
            funcs: self.funcs().collect(),
            total_counters: self.total_counters,
            names: self.names.to_vec(),
            covmap: self.covmap.to_vec(),
            covfun: self.covfun.to_vec(),
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
        }
    }

    #[test]
    fn round_trip() {
        let b = sample();
        let (bytes, hash) = b.encode();
        assert_eq!(bytes.len() % 8, 0);
        let m = MetaFile::parse(&bytes).unwrap();
        assert_eq!(m.hash(), hash);
        assert_eq!(m.to_builder(), b);
        assert_eq!(m.ident_value("machine"), Some("x86_64"));
        assert_eq!(m.num_funcs(), 2);
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

    /// The sections of `sample()` as (kind, bytes), to re-lay out by hand.
    fn sample_sections() -> Vec<(u32, Vec<u8>)> {
        let (bytes, _) = sample().encode();
        let count = le_u32(&bytes, 40) as usize;
        (0..count)
            .map(|i| {
                let e = META_HEADER_LEN + i * META_SECTION_ENTRY_LEN;
                let (off, len) = (
                    le_u64(&bytes, e + 8) as usize,
                    le_u64(&bytes, e + 16) as usize,
                );
                (le_u32(&bytes, e), bytes[off..off + len].to_vec())
            })
            .collect()
    }

    #[test]
    fn unknown_sections_are_skipped() {
        let mut sections = sample_sections();
        sections.insert(2, (77, b"from a future writer".to_vec()));
        let refs: Vec<(u32, &[u8])> = sections.iter().map(|(k, d)| (*k, d.as_slice())).collect();
        let (bytes, _) = encode_sections(&refs);
        assert_eq!(MetaFile::parse(&bytes).unwrap().to_builder(), sample());
    }

    #[test]
    fn missing_and_duplicate_sections_are_named() {
        let sections = sample_sections();
        let without_funcs: Vec<(u32, &[u8])> = sections
            .iter()
            .filter(|(k, _)| *k != SectionKind::Funcs as u32)
            .map(|(k, d)| (*k, d.as_slice()))
            .collect();
        let err = MetaFile::parse(&encode_sections(&without_funcs).0).unwrap_err();
        assert!(err.to_string().contains("missing funcs"), "{err}");
        let mut doubled: Vec<(u32, &[u8])> =
            sections.iter().map(|(k, d)| (*k, d.as_slice())).collect();
        doubled.push(doubled[0]);
        let err = MetaFile::parse(&encode_sections(&doubled).0).unwrap_err();
        assert!(err.to_string().contains("duplicate ident"), "{err}");
    }
}
