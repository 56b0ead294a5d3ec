//! `__llvm_covfun`: 8-aligned function records, each
//! `NameRef u64, DataSize u32, FuncHash u64, FilenamesRef u64` (packed,
//! 28 bytes) followed by `DataSize` bytes of mapping. Records are kept
//! first-wins by NameRef, except that a real record replaces a dummy one
//! (LLVM's `insertFunctionRecordIfNeeded`).

use super::covmap::{FileTables, TableRef};
use super::mapping::is_dummy;
use super::names::NameTable;
use super::Cursor;
use crate::error::{Error, Result};
use crate::fasthash::FastMap;

/// Size of a record header.
pub const RECORD_HEADER_LEN: usize = 28;

/// One function record, after deduplication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CovFunRecord<'a> {
    /// MD5 of the mangled name.
    pub name_ref: u64,
    /// Structural hash; 0 for unused functions.
    pub func_hash: u64,
    /// Index of the record's filenames table.
    pub table: usize,
    /// The encoded mapping.
    pub mapping: &'a [u8],
}

/// Walks a covfun section in order, keeping one record per NameRef. A
/// record whose FilenamesRef names no table is an error (as in LLVM); one
/// whose table hash collides is skipped, and so is the name check for it.
pub fn decode<'a>(
    section: &'a [u8],
    tables: &FileTables,
    names: &NameTable,
) -> Result<Vec<CovFunRecord<'a>>> {
    let mut records = Vec::new();
    walk(section, tables, Some(names), &mut records)?;
    Ok(records)
}

/// [`decode`] without the names, so that it can run while the names are
/// decoded: the records kept before the first error in `records` (all of
/// them when there is none), and that error. [`check_names`] then finds
/// the error [`decode`] would have met first.
pub fn decode_unnamed<'a>(
    section: &'a [u8],
    tables: &FileTables,
) -> (Vec<CovFunRecord<'a>>, Option<Error>) {
    let mut records = Vec::new();
    let error = walk(section, tables, None, &mut records).err();
    (records, error)
}

/// With the result of [`decode_unnamed`]: what [`decode`] returns. A
/// record's name is checked when the record is first kept, and records
/// stay in the order they were first kept, so the first record without a
/// name is the first error, unless a later `error` came first.
pub fn check_names<'a>(
    records: Vec<CovFunRecord<'a>>,
    error: Option<Error>,
    names: &NameTable,
) -> Result<Vec<CovFunRecord<'a>>> {
    if let Some(r) = records.iter().find(|r| names.get(r.name_ref).is_none()) {
        return Err(no_name(r.name_ref));
    }
    match error {
        Some(e) => Err(e),
        None => Ok(records),
    }
}

fn no_name(name_ref: u64) -> Error {
    Error::corrupt(format!(
        "function NameRef {name_ref:#018x} has no name in __llvm_prf_names"
    ))
}

/// The walk of [`decode`] into `records`; without `names`, no name is
/// checked.
fn walk<'a>(
    section: &'a [u8],
    tables: &FileTables,
    names: Option<&NameTable>,
    records: &mut Vec<CovFunRecord<'a>>,
) -> Result<()> {
    let mut by_name: FastMap<u64, usize> = FastMap::default();
    let mut c = Cursor::new(section);
    while !c.at_end() {
        let RawCovFun {
            name_ref,
            func_hash,
            filenames_ref,
            mapping,
        } = read_record(&mut c)?;
        let table = match tables.lookup(filenames_ref) {
            TableRef::Table(t) => t,
            TableRef::Collision => continue,
            TableRef::Unknown => {
                return Err(Error::corrupt(format!(
                    "no filenames table for function with FilenamesRef {filenames_ref:#x}"
                )))
            }
        };
        let record = CovFunRecord {
            name_ref,
            func_hash,
            table,
            mapping,
        };
        match by_name.get(&name_ref) {
            None => {
                if names.is_some_and(|n| n.get(name_ref).is_none()) {
                    return Err(no_name(name_ref));
                }
                by_name.insert(name_ref, records.len());
                records.push(record);
            }
            Some(&i) => {
                let old = records[i];
                if is_dummy(old.func_hash, old.mapping)? && !is_dummy(func_hash, mapping)? {
                    records[i] = record;
                }
            }
        }
    }
    Ok(())
}

/// One covfun record as stored, before LLVM's deduplication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawCovFun<'a> {
    /// MD5 of the mangled name.
    pub name_ref: u64,
    /// Structural hash.
    pub func_hash: u64,
    /// MD5 of the filenames blob the record's file ids index.
    pub filenames_ref: u64,
    /// The encoded mapping.
    pub mapping: &'a [u8],
}

/// Reads the record at the cursor: header, mapping and padding to 8.
fn read_record<'a>(c: &mut Cursor<'a>) -> Result<RawCovFun<'a>> {
    let at = c.pos();
    if c.remaining() < RECORD_HEADER_LEN {
        return Err(Error::truncated(format!(
            "covfun record at offset {at} overruns the section"
        )));
    }
    let name_ref = c.u64()?;
    let size = c.u32()? as usize;
    let func_hash = c.u64()?;
    let filenames_ref = c.u64()?;
    let mapping = c.bytes(size).map_err(|_| {
        Error::truncated(format!(
            "covfun record at offset {at}: mapping of {size} bytes overruns the section"
        ))
    })?;
    c.align8();
    Ok(RawCovFun {
        name_ref,
        func_hash,
        filenames_ref,
        mapping,
    })
}

/// Every record of a covfun section, in section order.
pub fn raw_records(section: &[u8]) -> Result<Vec<RawCovFun<'_>>> {
    let mut out = Vec::new();
    let mut c = Cursor::new(section);
    while !c.at_end() {
        out.push(read_record(&mut c)?);
    }
    Ok(out)
}

/// Encodes one record (header, mapping, padding to 8): the inverse of one
/// step of [`decode`], used to write covfun sections.
pub fn encode_record(name_ref: u64, func_hash: u64, filenames_ref: u64, mapping: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&name_ref.to_le_bytes());
    out.extend_from_slice(&(mapping.len() as u32).to_le_bytes());
    out.extend_from_slice(&func_hash.to_le_bytes());
    out.extend_from_slice(&filenames_ref.to_le_bytes());
    out.extend_from_slice(mapping);
    out.resize(out.len().div_ceil(8) * 8, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llvm::covmap::{encode_filenames, encode_record as covmap_record};
    use crate::llvm::names::encode_stored;
    use covwrap_rt::format::md5::md5_u64;

    const DUMMY: [u8; 9] = [1, 1, 0, 1, 0, 1, 1, 0, 2];
    const REAL: [u8; 9] = [1, 1, 0, 1, 1, 1, 1, 0, 2];

    fn setup() -> (FileTables, NameTable, u64) {
        let files = ["/w", "/w/a.rs"];
        let tables = FileTables::decode(&covmap_record(&files, 6)).unwrap();
        let names = NameTable::decode(&encode_stored(&["f", "g"])).unwrap();
        (tables, names, md5_u64(&encode_filenames(&files)))
    }

    #[test]
    fn first_wins_except_over_dummies() {
        let (tables, names, fref) = setup();
        let (f, g) = (md5_u64(b"f"), md5_u64(b"g"));
        let mut section = encode_record(f, 0, fref, &DUMMY);
        section.extend(encode_record(g, 7, fref, &REAL));
        section.extend(encode_record(f, 9, fref, &REAL));
        section.extend(encode_record(g, 8, fref, &REAL));
        let recs = decode(&section, &tables, &names).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!((recs[0].name_ref, recs[0].func_hash), (f, 9));
        assert_eq!((recs[1].name_ref, recs[1].func_hash), (g, 7));
    }

    #[test]
    fn unknown_table_or_name_and_overruns_are_errors() {
        let (tables, names, fref) = setup();
        let f = md5_u64(b"f");
        assert!(decode(&encode_record(f, 1, 99, &REAL), &tables, &names).is_err());
        assert!(decode(&encode_record(5, 1, fref, &REAL), &tables, &names).is_err());
        let good = encode_record(f, 1, fref, &REAL);
        for len in 1..RECORD_HEADER_LEN + REAL.len() {
            assert!(decode(&good[..len], &tables, &names).is_err(), "{len}");
        }
    }
}
