//! LLVM raw profiles (`.profraw`), version 10, 64-bit little-endian: the
//! reader (to turn a profraw into a counter file, and for round trips) and
//! the writer behind `covdata profraw`.
//!
//! ```text
//! header          16 x u64: Magic, Version, BinaryIdsSize, NumData,
//!                 PaddingBytesBeforeCounters, NumCounters,
//!                 PaddingBytesAfterCounters, NumBitmapBytes,
//!                 PaddingBytesAfterBitmapBytes, NamesSize, CountersDelta,
//!                 BitmapDelta, NamesDelta, NumVTables, VNamesSize,
//!                 ValueKindLast
//! binary ids      BinaryIdsSize bytes: {u64 len, id, pad to 8}
//! data            NumData x 64-byte records
//! counters        NumCounters x u64 (after its padding)
//! bitmap, names, vtables, vnames, each padded to 8
//! ```
//!
//! A record's counters start at `CounterPtr - (CountersDelta - 64 * i)`
//! bytes into the counters section.

use covwrap_rt::format::meta::FuncEntry;

use crate::error::{Error, ErrorKind, Result};

/// `\xfflprofr\x81` as a little-endian u64 (64-bit targets).
pub const MAGIC: u64 = 0xff6c_7072_6f66_7281;
/// The 32-bit targets' magic (`R` instead of `r`).
pub const MAGIC_32: u64 = 0xff6c_7072_6f66_5281;
/// The raw profile version this module reads and writes.
pub const VERSION: u64 = 10;
/// Size of the header.
pub const HEADER_LEN: usize = 128;
/// Size of a data record on 64-bit targets.
pub const DATA_LEN: usize = 64;
/// `IPVK_Last` in LLVM 19 to 22.
const VALUE_KIND_LAST: u64 = 2;
/// Variant bits this reader cannot handle: debug-info correlation (59),
/// byte coverage (60), function-entry only (61), memprof (62) and temporal
/// profiling (63), which all change what the sections hold.
const UNSUPPORTED_VARIANTS: u64 = 0x1f << 59;

/// One profile of a raw profile file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawProfile {
    /// The full version field (low 32 bits are 10; high bits are variant flags).
    pub version: u64,
    /// Binary ids (GNU build-ids).
    pub binary_ids: Vec<Vec<u8>>,
    /// Data records, in order, as the function table entries they are
    /// (`first_counter` indexes [`RawProfile::counters`]).
    pub data: Vec<FuncEntry>,
    /// The counter array.
    pub counters: Vec<u64>,
    /// The names section, verbatim.
    pub names: Vec<u8>,
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8"))
}

fn pad8(n: u64) -> u64 {
    (8 - n % 8) % 8
}

/// Parses every profile in a raw profile file.
pub fn parse(bytes: &[u8]) -> Result<Vec<RawProfile>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    loop {
        let (profile, len) = parse_one(&bytes[pos..])?;
        out.push(profile);
        pos += len;
        while pos < bytes.len() && bytes[pos] == 0 {
            pos += 1;
        }
        if pos >= bytes.len() {
            return Ok(out);
        }
        if pos % 8 != 0 {
            return Err(Error::corrupt(format!(
                "trailing data at offset {pos} is not an aligned profile"
            )));
        }
    }
}

fn parse_one(b: &[u8]) -> Result<(RawProfile, usize)> {
    if b.len() < 8 {
        return Err(Error::truncated(format!(
            "{} bytes, no raw profile header",
            b.len()
        )));
    }
    let magic = u64_at(b, 0);
    if magic != MAGIC {
        let detail = if magic == MAGIC_32 {
            "a 32-bit target's raw profile, which this build does not read"
        } else if magic.swap_bytes() == MAGIC || magic.swap_bytes() == MAGIC_32 {
            "a big-endian raw profile, which this build does not read"
        } else {
            "not an LLVM raw profile (wrong magic)"
        };
        return Err(Error::new(ErrorKind::BadMagic, detail));
    }
    if b.len() < HEADER_LEN {
        return Err(Error::truncated(format!(
            "{} bytes, shorter than the {HEADER_LEN}-byte header",
            b.len()
        )));
    }
    let h: Vec<u64> = (0..16).map(|i| u64_at(b, i * 8)).collect();
    let version = h[1];
    if version & 0xffff_ffff != VERSION {
        let v = (version & 0xffff_ffff) as u32;
        return Err(Error::new(
            ErrorKind::UnsupportedVersion(v),
            format!("raw profile version {v}; this build reads version {VERSION}"),
        ));
    }
    if version & UNSUPPORTED_VARIANTS != 0 {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "raw profile variant flags {:#x} are not supported",
                version >> 32
            ),
        ));
    }
    let [_, _, ids_size, num_data, pad_before, num_counters, pad_after, bitmap, pad_bitmap, names_size, counters_delta, _, _, num_vtables, vnames_size, _] =
        h[..]
    else {
        unreachable!("16 header fields")
    };
    // Section ends, with overflow checks, in the order of the file.
    let mut end = HEADER_LEN as u64;
    let mut take = |n: Option<u64>| -> Result<(u64, u64)> {
        let start = end;
        end = n
            .and_then(|n| end.checked_add(n))
            .filter(|e| *e <= b.len() as u64)
            .ok_or_else(|| Error::truncated("a section overruns the file"))?;
        Ok((start, end))
    };
    let ids = take(Some(ids_size))?;
    let data = take(num_data.checked_mul(DATA_LEN as u64))?;
    take(Some(pad_before))?;
    let counters = take(num_counters.checked_mul(8))?;
    take(Some(pad_after))?;
    take(Some(bitmap))?;
    take(Some(pad_bitmap))?;
    let names = take(Some(names_size))?;
    take(Some(pad8(names_size)))?;
    let vtab = num_vtables.checked_mul(24);
    take(vtab)?;
    take(vtab.map(pad8))?;
    take(Some(vnames_size))?;
    let (_, profile_end) = take(Some(pad8(vnames_size)))?;

    let mut binary_ids = Vec::new();
    let mut p = ids.0 as usize;
    while p < ids.1 as usize {
        if p + 8 > ids.1 as usize {
            return Err(Error::corrupt("binary id overruns its area"));
        }
        let len = u64_at(b, p);
        let end = (p as u64 + 8)
            .checked_add(len)
            .filter(|e| len > 0 && *e <= ids.1)
            .ok_or_else(|| Error::corrupt("binary id overruns its area"))?;
        binary_ids.push(b[p + 8..end as usize].to_vec());
        p = (end + pad8(len)) as usize;
    }

    let counter_bytes = counters.1 - counters.0;
    let mut records = Vec::with_capacity(num_data as usize);
    for i in 0..num_data as usize {
        let r = &b[data.0 as usize + i * DATA_LEN..data.0 as usize + (i + 1) * DATA_LEN];
        let counter_ptr = u64_at(r, 16);
        let n = u32::from_le_bytes(r[48..52].try_into().expect("4"));
        let value_sites = &r[52..58];
        if value_sites.iter().any(|&x| x != 0) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "value profiling data is not supported",
            ));
        }
        let delta = counters_delta.wrapping_sub((i * DATA_LEN) as u64);
        let offset = counter_ptr.wrapping_sub(delta) as i64;
        let valid = offset >= 0
            && offset % 8 == 0
            && (offset as u64) < counter_bytes
            && n != 0
            && u64::from(n) <= (counter_bytes - offset as u64) / 8;
        if !valid {
            return Err(Error::corrupt(format!(
                "data record {i} points to counters outside the counter section"
            )));
        }
        records.push(FuncEntry {
            name_ref: u64_at(r, 0),
            func_hash: u64_at(r, 8),
            first_counter: (offset / 8) as u32,
            num_counters: n,
        });
    }
    let counters_vec = b[counters.0 as usize..counters.1 as usize]
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
        .collect();
    Ok((
        RawProfile {
            version,
            binary_ids,
            data: records,
            counters: counters_vec,
            names: b[names.0 as usize..names.1 as usize].to_vec(),
        },
        profile_end as usize,
    ))
}

/// Encodes a version 10 raw profile for a binary with function table
/// `funcs`, counter array `counters` and names section `names`.
/// `CountersDelta` is chosen as if the counters directly followed the data
/// records; readers only use the difference to each `CounterPtr`.
pub fn encode(
    binary_id: Option<&[u8]>,
    funcs: &[FuncEntry],
    counters: &[u64],
    names: &[u8],
) -> Vec<u8> {
    encode_with_ids(binary_id.as_slice(), funcs, counters, names)
}

/// Like [`encode`], for a binary with several binary ids (or none): a pod
/// of several modules gives one profile holding every module's records
/// (`funcs` with pod-wide counter positions) and the modules' names
/// sections one after another, each padded to 8 with zeros (LLVM skips
/// zero bytes between name blobs).
pub fn encode_with_ids(
    binary_ids: &[&[u8]],
    funcs: &[FuncEntry],
    counters: &[u64],
    names: &[u8],
) -> Vec<u8> {
    let ids_size: u64 = binary_ids
        .iter()
        .map(|id| 8 + id.len() as u64 + pad8(id.len() as u64))
        .sum();
    let num_data = funcs.len() as u64;
    let counters_delta = num_data * DATA_LEN as u64;
    let header = [
        MAGIC,
        VERSION,
        ids_size,
        num_data,
        0,
        counters.len() as u64,
        pad8(counters.len() as u64 * 8),
        0,
        0,
        names.len() as u64,
        counters_delta,
        0,
        0,
        0,
        0,
        VALUE_KIND_LAST,
    ];
    let mut out = Vec::with_capacity(
        HEADER_LEN
            + ids_size as usize
            + funcs.len() * DATA_LEN
            + counters.len() * 8
            + names.len()
            + 8,
    );
    for v in header {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for id in binary_ids {
        out.extend_from_slice(&(id.len() as u64).to_le_bytes());
        out.extend_from_slice(id);
        out.resize(out.len() + pad8(id.len() as u64) as usize, 0);
    }
    for (i, f) in funcs.iter().enumerate() {
        let delta = counters_delta.wrapping_sub((i * DATA_LEN) as u64);
        let counter_ptr = delta.wrapping_add(u64::from(f.first_counter) * 8);
        out.extend_from_slice(&f.name_ref.to_le_bytes());
        out.extend_from_slice(&f.func_hash.to_le_bytes());
        out.extend_from_slice(&counter_ptr.to_le_bytes());
        out.extend_from_slice(&[0u8; 24]); // BitmapPtr, FunctionPointer, Values
        out.extend_from_slice(&f.num_counters.to_le_bytes());
        out.extend_from_slice(&[0u8; 12]); // NumValueSites, padding, NumBitmapBytes
    }
    for c in counters {
        out.extend_from_slice(&c.to_le_bytes());
    }
    out.extend_from_slice(names);
    out.resize(out.len() + pad8(names.len() as u64) as usize, 0);
    out
}

/// The raw profile of a pod: its modules' data records, the pod's summed
/// counters, the modules' names sections and build-ids (see
/// [`encode_with_ids`]). For a pod of one module this is [`encode`] with
/// its build-id and names.
pub fn encode_pod(pod: &crate::reader::Pod) -> Vec<u8> {
    let ids: Vec<Vec<u8>> = pod
        .modules
        .iter()
        .filter_map(|m| m.ident_value("build-id").and_then(parse_hex))
        .collect();
    let id_refs: Vec<&[u8]> = ids.iter().map(Vec::as_slice).collect();
    let mut names = Vec::new();
    for m in 0..pod.modules.len() {
        if m > 0 {
            names.resize(names.len() + pad8(names.len() as u64) as usize, 0);
        }
        names.extend_from_slice(pod.module_names(m));
    }
    encode_with_ids(&id_refs, &pod.funcs, &pod.counters, &names)
}

/// Checks that `raw` was written by the binary `funcs` describes (same data
/// records, same counter array length) and returns its counters: a raw
/// profile's counter section is the binary's counter array.
pub fn counters_for(
    raw: &RawProfile,
    funcs: &[FuncEntry],
    total_counters: u32,
) -> Result<Vec<u64>> {
    if raw.counters.len() != total_counters as usize || raw.data.len() != funcs.len() {
        return Err(Error::new(
            ErrorKind::CounterMismatch,
            format!(
                "profile has {} counters in {} records, the binary {} in {}",
                raw.counters.len(),
                raw.data.len(),
                total_counters,
                funcs.len()
            ),
        ));
    }
    for (i, (d, f)) in raw.data.iter().zip(funcs).enumerate() {
        if d != f {
            return Err(Error::new(
                ErrorKind::CounterMismatch,
                format!("data record {i} differs from the binary's"),
            ));
        }
    }
    Ok(raw.counters.clone())
}

/// Parses hex (as in the meta file's `build-id`) into bytes.
pub fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn funcs() -> Vec<FuncEntry> {
        vec![
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
            FuncEntry {
                name_ref: 1,
                func_hash: 2,
                first_counter: 4,
                num_counters: 3,
            },
        ]
    }

    #[test]
    fn round_trip() {
        let counters = [1, 2, 3, 4, 5, 6, u64::MAX];
        let names = b"\x05\x00hello";
        for id in [None, Some(&[0xab; 20][..])] {
            let bytes = encode(id, &funcs(), &counters, names);
            assert_eq!(bytes.len() % 8, 0);
            let p = parse(&bytes).unwrap();
            assert_eq!(p.len(), 1);
            let p = &p[0];
            assert_eq!(p.version, VERSION);
            assert_eq!(
                p.binary_ids,
                id.map(|i| vec![i.to_vec()]).unwrap_or_default()
            );
            assert_eq!(p.counters, counters);
            assert_eq!(p.names, names);
            assert_eq!(p.data, funcs());
            assert_eq!(counters_for(p, &funcs(), 7).unwrap(), counters);
            assert!(counters_for(p, &funcs(), 8).is_err());
        }
    }

    #[test]
    fn two_profiles_and_rejections() {
        let one = encode(None, &funcs(), &[0; 7], b"ab");
        let mut two = one.clone();
        two.extend_from_slice(&one);
        assert_eq!(parse(&two).unwrap().len(), 2);
        for len in 0..one.len() {
            assert!(parse(&one[..len]).is_err(), "{len}");
        }
        let mut v9 = one.clone();
        v9[8] = 9;
        assert_eq!(
            parse(&v9).unwrap_err().kind(),
            &ErrorKind::UnsupportedVersion(9)
        );
        let mut swapped = one.clone();
        swapped[..8].reverse();
        assert_eq!(parse(&swapped).unwrap_err().kind(), &ErrorKind::BadMagic);
        let mut bad_ptr = one.clone();
        bad_ptr[HEADER_LEN + 16] ^= 0x40;
        assert!(parse(&bad_ptr).is_err());
        let mut byte_cov = one;
        byte_cov[15] = 0x10;
        assert_eq!(
            parse(&byte_cov).unwrap_err().kind(),
            &ErrorKind::Unsupported
        );
    }
}
