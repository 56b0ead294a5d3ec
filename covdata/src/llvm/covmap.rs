//! `__llvm_covmap`: one 8-aligned record per codegen unit, each a 16-byte
//! header (`NRecords`, `FilenamesSize`, `CoverageSize`, `Version`, u32 LE)
//! followed by an encoded filenames blob. Function records refer to a blob
//! by `FilenamesRef`, the MD5 of its encoded bytes.

use covwrap_rt::format::md5::md5_u64;

use super::{inflate, Cursor, COVMAP_VERSION};
use crate::error::{Error, ErrorKind, Result};
use crate::fasthash::FastMap;
use crate::paths;

/// One filenames table. Entry 0 is the compilation directory; every other
/// entry is resolved (relative entries joined to entry 0 and normalized).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTable {
    /// The resolved entries, entry 0 included.
    pub files: Vec<String>,
}

impl FileTable {
    /// The compilation directory rustc recorded.
    pub fn compilation_dir(&self) -> &str {
        &self.files[0]
    }
}

/// Every distinct table of a covmap section, by FilenamesRef.
#[derive(Clone, Debug, Default)]
pub struct FileTables {
    /// Distinct tables, in section order.
    pub tables: Vec<FileTable>,
    /// FilenamesRef → index in `tables`; `None` when two different blobs
    /// share the hash (LLVM then skips the functions that use it).
    by_ref: FastMap<u64, Option<usize>>,
}

/// What a function record's FilenamesRef resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableRef {
    /// Index into [`FileTables::tables`].
    Table(usize),
    /// Two different tables share this hash.
    Collision,
    /// No table has this hash.
    Unknown,
}

impl FileTables {
    /// Decodes a covmap section. Any version but 6 is rejected with an
    /// error naming it.
    pub fn decode(section: &[u8]) -> Result<FileTables> {
        let mut out = FileTables::default();
        let mut c = Cursor::new(section);
        while !c.at_end() {
            if c.remaining() < 16 {
                return Err(Error::truncated(format!(
                    "covmap header at offset {} overruns the section",
                    c.pos()
                )));
            }
            let n_records = c.u32()?;
            let filenames_size = c.u32()? as usize;
            let coverage_size = c.u32()?;
            let version = c.u32()?;
            if version != COVMAP_VERSION {
                return Err(unsupported_version(version));
            }
            // Always 0 since Version4; LLVM skips such records' space.
            c.bytes(n_records as usize * 28)?;
            let blob = c.bytes(filenames_size)?;
            if coverage_size != 0 {
                return Err(Error::corrupt("covmap coverage size is not zero"));
            }
            let table = decode_filenames(blob).map_err(|e| e.context("covmap filenames"))?;
            let hash = md5_u64(blob);
            match out.by_ref.get(&hash).copied() {
                None => {
                    out.tables.push(table);
                    out.by_ref.insert(hash, Some(out.tables.len() - 1));
                }
                Some(Some(i)) if out.tables[i] != table => {
                    out.by_ref.insert(hash, None);
                }
                Some(_) => {}
            }
            c.align8();
        }
        Ok(out)
    }

    /// Resolves a function record's FilenamesRef.
    pub fn lookup(&self, filenames_ref: u64) -> TableRef {
        match self.by_ref.get(&filenames_ref) {
            Some(Some(i)) => TableRef::Table(*i),
            Some(None) => TableRef::Collision,
            None => TableRef::Unknown,
        }
    }
}

/// The error for a coverage-mapping version this build does not read.
pub fn unsupported_version(stored: u32) -> Error {
    Error::new(
        ErrorKind::UnsupportedVersion(stored),
        format!(
            "LLVM coverage mapping version {} (stored as {stored}) is not supported; \
             covdata reads version {} (stored as {COVMAP_VERSION}), as written by LLVM 18 to 22",
            u64::from(stored) + 1,
            COVMAP_VERSION + 1
        ),
    )
}

/// Decodes a Version6+ filenames blob: `ULEB count, ULEB uncompressed
/// length, ULEB compressed length (0 = stored)`, then the (possibly zlib)
/// list of `ULEB length, bytes`.
fn decode_filenames(blob: &[u8]) -> Result<FileTable> {
    let mut c = Cursor::new(blob);
    let count = c.size("filename count")?;
    if count == 0 {
        return Err(Error::corrupt("number of filenames is zero"));
    }
    let uncompressed = c.uleb()?;
    let compressed = c.size("compressed length")?;
    let inflated;
    let mut list = if compressed > 0 {
        inflated = inflate(c.bytes(compressed)?, uncompressed, "filenames")?;
        Cursor::new(&inflated)
    } else {
        Cursor::new(&blob[c.pos()..])
    };
    let mut files = Vec::with_capacity(count);
    for i in 0..count {
        let len = list.size("filename length")?;
        let name = String::from_utf8_lossy(list.bytes(len)?).into_owned();
        if i == 0 || paths::is_absolute(&name) {
            files.push(name);
        } else {
            let resolved = paths::join_normalized(&files[0], &name);
            files.push(resolved);
        }
    }
    Ok(FileTable { files })
}

/// Encodes a stored (uncompressed) filenames blob. Used by tests.
pub fn encode_filenames(files: &[&str]) -> Vec<u8> {
    use covwrap_rt::format::leb128::push;
    let mut list = Vec::new();
    for f in files {
        push(&mut list, f.len() as u64);
        list.extend_from_slice(f.as_bytes());
    }
    let mut out = Vec::new();
    push(&mut out, files.len() as u64);
    push(&mut out, list.len() as u64);
    push(&mut out, 0);
    out.extend_from_slice(&list);
    out
}

/// Encodes one covmap record (header, blob, padding) for `files`.
pub fn encode_record(files: &[&str], version: u32) -> Vec<u8> {
    let blob = encode_filenames(files);
    let mut out = Vec::new();
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&blob);
    out.resize(out.len().div_ceil(8) * 8, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_and_compressed_tables() {
        let mut section = encode_record(&["/w/ex", "src/main.rs", "/abs/x.rs"], 6);
        let list = {
            let mut l = Vec::new();
            for f in [".", "./main.rs"] {
                covwrap_rt::format::leb128::push(&mut l, f.len() as u64);
                l.extend_from_slice(f.as_bytes());
            }
            l
        };
        let z = miniz_oxide::deflate::compress_to_vec_zlib(&list, 9);
        let mut blob = vec![2, list.len() as u8, z.len() as u8];
        blob.extend_from_slice(&z);
        let mut rec = Vec::new();
        for v in [0u32, blob.len() as u32, 0, 6] {
            rec.extend_from_slice(&v.to_le_bytes());
        }
        rec.extend_from_slice(&blob);
        rec.resize(rec.len().div_ceil(8) * 8, 0);
        section.extend_from_slice(&rec);
        let t = FileTables::decode(&section).unwrap();
        assert_eq!(t.tables.len(), 2);
        assert_eq!(
            t.tables[0].files,
            ["/w/ex", "/w/ex/src/main.rs", "/abs/x.rs"]
        );
        assert_eq!(t.tables[1].files, [".", "main.rs"]);
        let first = md5_u64(&encode_filenames(&["/w/ex", "src/main.rs", "/abs/x.rs"]));
        assert_eq!(t.lookup(first), TableRef::Table(0));
        assert_eq!(t.lookup(md5_u64(&blob)), TableRef::Table(1));
        assert_eq!(t.lookup(7), TableRef::Unknown);
    }

    #[test]
    fn identical_tables_share_one_entry() {
        let mut section = encode_record(&["/w", "/w/a.rs"], 6);
        section.extend(encode_record(&["/w", "/w/a.rs"], 6));
        assert_eq!(FileTables::decode(&section).unwrap().tables.len(), 1);
    }

    #[test]
    fn other_versions_are_named() {
        for v in [5u32, 7, 0x1234] {
            let err = FileTables::decode(&encode_record(&["/w"], v)).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::UnsupportedVersion(v));
            assert!(err.to_string().contains(&format!("stored as {v}")), "{err}");
        }
    }

    #[test]
    fn truncation_is_an_error() {
        let section = encode_record(&["/w", "/w/a.rs"], 6);
        let unpadded = 16 + encode_filenames(&["/w", "/w/a.rs"]).len();
        for len in 1..unpadded {
            assert!(FileTables::decode(&section[..len]).is_err(), "{len}");
        }
        let mut zero_files = encode_record(&["/w"], 6);
        zero_files[16] = 0;
        assert!(FileTables::decode(&zero_files).is_err());
    }
}
