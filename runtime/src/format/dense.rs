//! Dense counter files (continuous mode, docs/FORMAT.md "Dense counter
//! files"): the file a process maps `MAP_SHARED` and counts into directly,
//! so the kernel keeps its counts whatever way the process ends.
//!
//! ```text
//! 0   magic 89 'C' 'W' 'D' 0D 0A 1A 0A
//! 8   version u32 (1)
//! 12  state u32 (1 running, 2 exec'd)
//! 16  H of the meta file
//! 32  pid u64
//! 40  start time ns u64
//! 48  counter count u32 (N)
//! 52  args length u32 (A)
//! 56  counters offset u64 (O: a multiple of the page size, >= 64 + A)
//! 64  args (A bytes, the covcounters args table), zeros up to O
//! O   N x u64 counters; the file is exactly O + 8N bytes
//! ```
//!
//! The header is written once, before the file gets its final name; after
//! that only the counters (and the state word) change.

use super::bytes::{le_u32, le_u64};
use super::counters::CountersHeader;
use super::defs::{end_reason, MetaHash};
use super::error::{ErrorKind, FormatError, Result};
use super::kv;

/// First 8 bytes of a dense counter file.
pub const DENSE_MAGIC: [u8; 8] = *b"\x89CWD\r\n\x1a\n";
/// Version written into and accepted from dense counter files.
pub const DENSE_VERSION: u32 = 1;
/// Size of the fixed header, before the args.
pub const DENSE_HEADER_LEN: usize = 64;
/// Offset of the state word.
pub const STATE_OFFSET: usize = 12;

/// Values of the state word.
pub mod state {
    /// The process set up the file and counts into it (or did until it died).
    pub const RUNNING: u32 = 1;
    /// The process called exec: its image, and this run, ended there.
    pub const EXECED: u32 = 2;
}

/// The header fields of a dense file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DenseHeader {
    /// See [`state`].
    pub state: u32,
    /// H of the meta file describing the counters.
    pub meta_hash: MetaHash,
    /// Process id of the process that counts into the file.
    pub pid: u64,
    /// When it started (or forked), ns since the Unix epoch.
    pub start_ns: u64,
    /// Length of the binary's counter array.
    pub num_counters: u32,
    /// Offset of the counters: a multiple of the page size.
    pub counters_offset: u64,
}

/// Where the counters of a file with `args_len` bytes of args start, for
/// pages of `page` bytes (a power of two).
pub fn counters_offset(args_len: usize, page: usize) -> usize {
    (DENSE_HEADER_LEN + args_len).div_ceil(page) * page
}

/// The length of the whole file.
pub fn file_len(counters_offset: usize, num_counters: usize) -> usize {
    counters_offset + num_counters * 8
}

/// Writes the header and `args` into `out`, which must hold at least
/// `DENSE_HEADER_LEN + args.len()` bytes (the start of a zeroed mapping).
/// Allocation-free, for the runtime's fork path.
pub fn write_header(out: &mut [u8], header: &DenseHeader, args: &[u8]) {
    out[0..8].copy_from_slice(&DENSE_MAGIC);
    out[8..12].copy_from_slice(&DENSE_VERSION.to_le_bytes());
    out[12..16].copy_from_slice(&header.state.to_le_bytes());
    out[16..32].copy_from_slice(&header.meta_hash);
    out[32..40].copy_from_slice(&header.pid.to_le_bytes());
    out[40..48].copy_from_slice(&header.start_ns.to_le_bytes());
    out[48..52].copy_from_slice(&header.num_counters.to_le_bytes());
    out[52..56].copy_from_slice(&(args.len() as u32).to_le_bytes());
    out[56..64].copy_from_slice(&header.counters_offset.to_le_bytes());
    out[DENSE_HEADER_LEN..DENSE_HEADER_LEN + args.len()].copy_from_slice(args);
}

/// A whole file in memory, for tests and tools: header, args, counters.
pub fn encode(header: &DenseHeader, args: &[u8], counters: &[u64]) -> Vec<u8> {
    let offset = header.counters_offset as usize;
    let mut out = vec![0u8; file_len(offset, counters.len())];
    write_header(&mut out, header, args);
    for (i, c) in counters.iter().enumerate() {
        out[offset + 8 * i..offset + 8 * i + 8].copy_from_slice(&c.to_le_bytes());
    }
    out
}

/// True when `data` starts like a dense counter file.
pub fn is_dense(data: &[u8]) -> bool {
    data.starts_with(&DENSE_MAGIC)
}

/// A decoded, validated dense file borrowing its bytes.
#[derive(Clone, Debug)]
pub struct DenseFile<'a> {
    header: DenseHeader,
    args: Vec<(String, String)>,
    counters: &'a [u8],
}

impl<'a> DenseFile<'a> {
    /// Decodes and validates `data`: magic, version, state, offsets, the
    /// args table, and a length of exactly `O + 8N`.
    pub fn parse(data: &'a [u8]) -> Result<DenseFile<'a>> {
        if !is_dense(data) {
            return Err(FormatError::new(
                ErrorKind::BadMagic,
                "not a dense counter file",
            ));
        }
        if data.len() < DENSE_HEADER_LEN {
            return Err(FormatError::truncated(format!(
                "{} bytes, shorter than the dense header",
                data.len()
            )));
        }
        let version = le_u32(data, 8);
        if version != DENSE_VERSION {
            return Err(FormatError::new(
                ErrorKind::UnsupportedVersion(version),
                format!("dense counter file version {version}; this build reads version {DENSE_VERSION}"),
            ));
        }
        let mut meta_hash = [0u8; 16];
        meta_hash.copy_from_slice(&data[16..32]);
        let header = DenseHeader {
            state: le_u32(data, STATE_OFFSET),
            meta_hash,
            pid: le_u64(data, 32),
            start_ns: le_u64(data, 40),
            num_counters: le_u32(data, 48),
            counters_offset: le_u64(data, 56),
        };
        if header.state != state::RUNNING && header.state != state::EXECED {
            return Err(FormatError::corrupt(format!(
                "unknown dense state {}",
                header.state
            )));
        }
        let args_len = le_u32(data, 52) as usize;
        let offset = header.counters_offset;
        if offset % 8 != 0 || offset < (DENSE_HEADER_LEN + args_len) as u64 {
            return Err(FormatError::corrupt(format!(
                "counters offset {offset} overlaps the {args_len} bytes of args"
            )));
        }
        let want = offset.checked_add(u64::from(header.num_counters) * 8);
        if want != Some(data.len() as u64) {
            let kind = if want.is_some_and(|w| w > data.len() as u64) {
                ErrorKind::Truncated
            } else {
                ErrorKind::Corrupt
            };
            return Err(FormatError::new(
                kind,
                format!(
                    "{} bytes, but {} counters at offset {offset} need {}",
                    data.len(),
                    header.num_counters,
                    want.map_or_else(|| "more".to_string(), |w| w.to_string())
                ),
            ));
        }
        let args = kv::decode(&data[DENSE_HEADER_LEN..DENSE_HEADER_LEN + args_len], "args")?;
        let counters = &data[offset as usize..];
        Ok(DenseFile {
            header,
            args,
            counters,
        })
    }

    /// The fixed header.
    pub fn header(&self) -> &DenseHeader {
        &self.header
    }

    /// The process's args table.
    pub fn args(&self) -> &[(String, String)] {
        &self.args
    }

    /// Counter `i`'s value.
    pub fn counter(&self, i: usize) -> u64 {
        le_u64(self.counters, 8 * i)
    }

    /// The non-zero counters as `(index, value)`, increasing index.
    pub fn nonzero(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        (0..self.header.num_counters as usize)
            .map(|i| (i as u32, self.counter(i)))
            .filter(|(_, v)| *v != 0)
    }

    /// The covcounters header this run reads as: one run, ended without
    /// its exit path ([`end_reason::LOST`]), last written at `write_ns`.
    pub fn counters_header(&self, write_ns: u64) -> CountersHeader {
        CountersHeader {
            flags: 0,
            meta_hash: self.header.meta_hash,
            pid: self.header.pid,
            start_ns: self.header.start_ns,
            write_ns,
            num_counters: self.header.num_counters,
            end: end_reason::LOST,
            runs: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (DenseHeader, Vec<u8>, Vec<u64>) {
        let mut args = Vec::new();
        kv::encode(&[("argv", "prog"), ("os", "linux")], &mut args);
        let header = DenseHeader {
            state: state::RUNNING,
            meta_hash: [0xab; 16],
            pid: 4242,
            start_ns: 1_700_000_000_000_000_001,
            num_counters: 5,
            counters_offset: counters_offset(args.len(), 4096) as u64,
        };
        (header, args, vec![0, 7, 0, u64::MAX, 1])
    }

    #[test]
    fn round_trip() {
        let (header, args, counters) = sample();
        let bytes = encode(&header, &args, &counters);
        assert_eq!(bytes.len(), 4096 + 40);
        assert_eq!(&bytes[..8], b"\x89CWD\r\n\x1a\n");
        let file = DenseFile::parse(&bytes).unwrap();
        assert_eq!(*file.header(), header);
        assert_eq!(file.args()[0], ("argv".to_string(), "prog".to_string()));
        assert_eq!(
            file.nonzero().collect::<Vec<_>>(),
            vec![(1, 7), (3, u64::MAX), (4, 1)]
        );
        let h = file.counters_header(9);
        assert_eq!(
            (h.runs, h.end, h.pid, h.write_ns),
            (1, end_reason::LOST, 4242, 9)
        );
    }

    #[test]
    fn byte_layout() {
        let (header, args, counters) = sample();
        let bytes = encode(&header, &args, &counters);
        assert_eq!(le_u32(&bytes, 8), 1);
        assert_eq!(le_u32(&bytes, 12), state::RUNNING);
        assert_eq!(&bytes[16..32], &[0xab; 16]);
        assert_eq!(le_u64(&bytes, 32), 4242);
        assert_eq!(le_u64(&bytes, 40), 1_700_000_000_000_000_001);
        assert_eq!(le_u32(&bytes, 48), 5);
        assert_eq!(le_u32(&bytes, 52) as usize, args.len());
        assert_eq!(le_u64(&bytes, 56), 4096);
        assert_eq!(&bytes[64..64 + args.len()], &args[..]);
        assert_eq!(le_u64(&bytes, 4096 + 8), 7);
    }

    #[test]
    fn every_cut_and_bad_field_is_an_error() {
        let (header, args, counters) = sample();
        let bytes = encode(&header, &args, &counters);
        for len in 0..bytes.len() {
            assert!(DenseFile::parse(&bytes[..len]).is_err(), "cut at {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(DenseFile::parse(&longer).is_err());
        for (off, value) in [
            (8usize, 2u64),
            (12, 9),
            (48, u32::MAX as u64),
            (56, 8),
            (56, 4100),
            (52, 5000),
        ] {
            let mut bad = bytes.clone();
            let width = if off == 56 { 8 } else { 4 };
            bad[off..off + width].copy_from_slice(&value.to_le_bytes()[..width]);
            assert!(DenseFile::parse(&bad).is_err(), "field at {off} = {value}");
        }
        let mut exec = bytes;
        exec[12] = state::EXECED as u8;
        assert_eq!(
            DenseFile::parse(&exec).unwrap().header().state,
            state::EXECED
        );
    }
}
