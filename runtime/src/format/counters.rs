//! covcounters files: a streaming encoder ([`CountersWriter`]) that needs no
//! heap, so the runtime can use it from a signal handler, and a decoder
//! ([`CountersFile`]).
//!
//! The body lists only non-zero counters, as `(ULEB delta, ULEB value)`
//! pairs in increasing index order, where `delta = index - previous index`
//! (the previous index starts at -1, so every delta is at least 1). A single
//! `ULEB 0` ends the list. A footer carries the file length and a CRC-32.

use super::bytes::{le_u32, le_u64, pad8};
use super::crc32::Crc32;
use super::defs::{
    MetaHash, COUNTERS_END_MAGIC, COUNTERS_FOOTER_LEN, COUNTERS_HEADER_LEN, COUNTERS_MAGIC,
    COUNTERS_VERSION,
};
use super::error::{ErrorKind, FormatError, Result};
use super::kv;
use super::leb128;

/// The fixed header of a counter file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountersHeader {
    /// See [`super::defs::counter_flags`].
    pub flags: u32,
    /// H of the meta file describing the counters.
    pub meta_hash: MetaHash,
    /// Process id of the writer; 0 for files written by covdata.
    pub pid: u64,
    /// When the process started (or forked), ns since the Unix epoch.
    pub start_ns: u64,
    /// When the file was written, ns since the Unix epoch.
    pub write_ns: u64,
    /// Length of the binary's counter array; must match the meta file.
    pub num_counters: u32,
    /// How the process ended, see [`super::defs::end_reason`].
    pub end: u32,
    /// How many process runs this file sums: 1 for a file a process wrote,
    /// the total for merged files and pools.
    pub runs: u32,
}

/// Destination of an encoder: a `Vec<u8>`, or the runtime's raw file.
pub trait Sink {
    /// Error of a failed write.
    type Error;
    /// Writes all of `data`.
    fn write_all(&mut self, data: &[u8]) -> std::result::Result<(), Self::Error>;
}

impl Sink for Vec<u8> {
    type Error = std::convert::Infallible;
    fn write_all(&mut self, data: &[u8]) -> std::result::Result<(), Self::Error> {
        self.extend_from_slice(data);
        Ok(())
    }
}

const STAGING: usize = 4096;

/// Streaming encoder. Stages output in a fixed buffer and never allocates.
pub struct CountersWriter<S: Sink> {
    sink: S,
    crc: Crc32,
    written: u64,
    staged: [u8; STAGING],
    staged_len: usize,
    prev_index: i64,
    num_counters: u32,
}

impl<S: Sink> CountersWriter<S> {
    /// Writes the header and `args` (an encoded [`kv`] table) to `sink`.
    pub fn begin(
        sink: S,
        header: &CountersHeader,
        args: &[u8],
    ) -> std::result::Result<Self, S::Error> {
        let mut w = CountersWriter {
            sink,
            crc: Crc32::new(),
            written: 0,
            staged: [0; STAGING],
            staged_len: 0,
            prev_index: -1,
            num_counters: header.num_counters,
        };
        let mut head = [0u8; COUNTERS_HEADER_LEN];
        head[0..8].copy_from_slice(&COUNTERS_MAGIC);
        head[8..12].copy_from_slice(&COUNTERS_VERSION.to_le_bytes());
        head[12..16].copy_from_slice(&header.flags.to_le_bytes());
        head[16..32].copy_from_slice(&header.meta_hash);
        head[32..40].copy_from_slice(&header.pid.to_le_bytes());
        head[40..48].copy_from_slice(&header.start_ns.to_le_bytes());
        head[48..56].copy_from_slice(&header.write_ns.to_le_bytes());
        head[56..60].copy_from_slice(&header.num_counters.to_le_bytes());
        head[60..64].copy_from_slice(&header.end.to_le_bytes());
        head[64..68].copy_from_slice(&(args.len() as u32).to_le_bytes());
        head[68..72].copy_from_slice(&header.runs.to_le_bytes());
        w.put(&head)?;
        w.put(args)?;
        w.put(&[0u8; 8][..pad8(args.len())])?;
        Ok(w)
    }

    /// Records counter `index` with `value`. Zero values are skipped; indices
    /// must increase and stay below the header's counter count (others are
    /// ignored, so a bad caller cannot produce an unreadable file).
    #[inline]
    pub fn counter(&mut self, index: u32, value: u64) -> std::result::Result<(), S::Error> {
        if value == 0 || i64::from(index) <= self.prev_index || index >= self.num_counters {
            return Ok(());
        }
        let delta = (i64::from(index) - self.prev_index) as u64;
        self.prev_index = i64::from(index);
        // The exit path calls this for every non-zero counter: encode in
        // place, flushing only when the staging buffer could overflow.
        if STAGING - self.staged_len < 2 * leb128::MAX_LEN {
            self.flush()?;
        }
        self.staged_len += leb128::encode_into(delta, &mut self.staged[self.staged_len..]);
        self.staged_len += leb128::encode_into(value, &mut self.staged[self.staged_len..]);
        Ok(())
    }

    /// Ends the list, writes the footer and returns the sink.
    pub fn finish(mut self) -> std::result::Result<S, S::Error> {
        self.put(&[0])?;
        let body_len = self.written + self.staged_len as u64;
        self.put(&[0u8; 8][..pad8(body_len as usize)])?;
        let total = self.written + self.staged_len as u64 + COUNTERS_FOOTER_LEN as u64;
        let mut footer = [0u8; COUNTERS_FOOTER_LEN];
        footer[0..8].copy_from_slice(&total.to_le_bytes());
        self.put(&footer[0..8])?;
        // The CRC covers every byte before it, the length field included.
        let crc = self.crc_with_staged();
        footer[8..12].copy_from_slice(&crc.to_le_bytes());
        footer[12..16].copy_from_slice(&COUNTERS_END_MAGIC);
        self.put(&footer[8..16])?;
        self.flush()?;
        Ok(self.sink)
    }

    fn crc_with_staged(&mut self) -> u32 {
        let mut crc = self.crc;
        crc.update(&self.staged[..self.staged_len]);
        crc.finish()
    }

    /// Stages bytes that count towards the CRC.
    fn put(&mut self, mut data: &[u8]) -> std::result::Result<(), S::Error> {
        while !data.is_empty() {
            if self.staged_len == STAGING {
                self.flush()?;
            }
            let take = (STAGING - self.staged_len).min(data.len());
            self.staged[self.staged_len..self.staged_len + take].copy_from_slice(&data[..take]);
            self.staged_len += take;
            data = &data[take..];
        }
        Ok(())
    }

    fn flush(&mut self) -> std::result::Result<(), S::Error> {
        if self.staged_len == 0 {
            return Ok(());
        }
        self.crc.update(&self.staged[..self.staged_len]);
        self.sink.write_all(&self.staged[..self.staged_len])?;
        self.written += self.staged_len as u64;
        self.staged_len = 0;
        Ok(())
    }
}

fn unwrap<T>(r: std::result::Result<T, std::convert::Infallible>) -> T {
    match r {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

/// Encodes a whole counter file into memory from `(index, value)` pairs in
/// increasing index order.
pub fn encode(
    header: &CountersHeader,
    args: &[(String, String)],
    counters: impl IntoIterator<Item = (u32, u64)>,
) -> Vec<u8> {
    let mut args_bytes = Vec::new();
    kv::encode(args, &mut args_bytes);
    let mut w = unwrap(CountersWriter::begin(Vec::new(), header, &args_bytes));
    for (index, value) in counters {
        unwrap(w.counter(index, value));
    }
    unwrap(w.finish())
}

/// A decoded, validated counter file borrowing its bytes.
#[derive(Clone, Debug)]
pub struct CountersFile<'a> {
    header: CountersHeader,
    args: Vec<(String, String)>,
    body: &'a [u8],
}

impl<'a> CountersFile<'a> {
    /// Decodes and validates `data`: magic, version, footer, CRC, args and
    /// every counter entry.
    pub fn parse(data: &'a [u8]) -> Result<CountersFile<'a>> {
        Self::parse_checked(data, None)
    }

    /// [`parse`](Self::parse), also decoding the counters into `entries`
    /// (cleared first) as `(index, value)` in increasing index: a reader
    /// that sums many files decodes each list once instead of checking it
    /// and then decoding it again.
    pub fn parse_into(data: &'a [u8], entries: &mut Vec<(u32, u64)>) -> Result<CountersFile<'a>> {
        entries.clear();
        Self::parse_checked(data, Some(entries))
    }

    fn parse_checked(
        data: &'a [u8],
        entries: Option<&mut Vec<(u32, u64)>>,
    ) -> Result<CountersFile<'a>> {
        if data.len() < COUNTERS_MAGIC.len() || data[..8] != COUNTERS_MAGIC {
            return Err(FormatError::new(
                ErrorKind::BadMagic,
                "not a covcounters file",
            ));
        }
        if data.len() < COUNTERS_HEADER_LEN + COUNTERS_FOOTER_LEN {
            return Err(FormatError::truncated(format!(
                "{} bytes, shorter than header and footer",
                data.len()
            )));
        }
        let version = le_u32(data, 8);
        if version != COUNTERS_VERSION {
            return Err(FormatError::new(
                ErrorKind::UnsupportedVersion(version),
                format!(
                    "covcounters version {version}; this build reads version {COUNTERS_VERSION}"
                ),
            ));
        }
        let footer = &data[data.len() - COUNTERS_FOOTER_LEN..];
        let stored_len = le_u64(footer, 0);
        if footer[12..16] != COUNTERS_END_MAGIC || stored_len != data.len() as u64 {
            return Err(FormatError::truncated(format!(
                "no valid footer in {} bytes (the writer did not finish)",
                data.len()
            )));
        }
        let crc_end = data.len() - 8;
        let mut crc = Crc32::new();
        crc.update(&data[..crc_end]);
        if crc.finish() != le_u32(footer, 8) {
            return Err(FormatError::corrupt("checksum mismatch"));
        }
        let mut meta_hash = [0u8; 16];
        meta_hash.copy_from_slice(&data[16..32]);
        let header = CountersHeader {
            flags: le_u32(data, 12),
            meta_hash,
            pid: le_u64(data, 32),
            start_ns: le_u64(data, 40),
            write_ns: le_u64(data, 48),
            num_counters: le_u32(data, 56),
            end: le_u32(data, 60),
            runs: le_u32(data, 68),
        };
        let args_len = le_u32(data, 64) as usize;
        let body_start = COUNTERS_HEADER_LEN
            .checked_add(args_len)
            .map(|n| n + pad8(args_len))
            .filter(|n| *n <= data.len() - COUNTERS_FOOTER_LEN)
            .ok_or_else(|| {
                FormatError::corrupt(format!("args length {args_len} overruns the file"))
            })?;
        let args = kv::decode(
            &data[COUNTERS_HEADER_LEN..COUNTERS_HEADER_LEN + args_len],
            "args",
        )?;
        let body = &data[body_start..data.len() - COUNTERS_FOOTER_LEN];
        let file = CountersFile { header, args, body };
        file.validate_entries(entries)?;
        Ok(file)
    }

    /// The fixed header.
    pub fn header(&self) -> &CountersHeader {
        &self.header
    }

    /// Process arguments and environment facts, in recorded order.
    pub fn args(&self) -> &[(String, String)] {
        &self.args
    }

    /// The recorded non-zero counters as `(index, value)`, increasing index.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            body: self.body,
            pos: 0,
            prev: -1,
        }
    }

    /// Adds every counter into `dense` (indexed by counter), saturating.
    /// Returns true if any sum saturated. `dense` must hold at least
    /// `header().num_counters` entries.
    pub fn add_into(&self, dense: &mut [u64]) -> bool {
        let mut saturated = false;
        for (i, v) in self.entries() {
            if let Some(slot) = dense.get_mut(i as usize) {
                saturated |= add_saturating(slot, v);
            }
        }
        saturated
    }

    /// Checks the counter list; with `out`, also collects its entries.
    fn validate_entries(&self, mut out: Option<&mut Vec<(u32, u64)>>) -> Result<()> {
        let mut pos = 0;
        let mut prev: i64 = -1;
        loop {
            let delta = leb128::decode(self.body, &mut pos)
                .ok_or_else(|| FormatError::corrupt("bad counter entry"))?;
            if delta == 0 {
                break;
            }
            let value = leb128::decode(self.body, &mut pos)
                .ok_or_else(|| FormatError::corrupt("bad counter value"))?;
            let index = prev
                .checked_add_unsigned(delta)
                .filter(|i| *i < i64::from(self.header.num_counters));
            let Some(index) = index else {
                return Err(FormatError::corrupt(format!(
                    "counter index past the {} counters",
                    self.header.num_counters
                )));
            };
            prev = index;
            if let Some(out) = out.as_deref_mut() {
                // Below num_counters, a u32.
                out.push((index as u32, value));
            }
        }
        if self.body[pos..].iter().any(|&b| b != 0) || self.body.len() - pos >= 8 {
            return Err(FormatError::corrupt(
                "unexpected bytes after the counter list",
            ));
        }
        Ok(())
    }
}

/// Iterator over a validated counter list.
#[derive(Clone, Debug)]
pub struct Entries<'a> {
    body: &'a [u8],
    pos: usize,
    prev: i64,
}

impl Iterator for Entries<'_> {
    type Item = (u32, u64);

    fn next(&mut self) -> Option<(u32, u64)> {
        let delta = leb128::decode(self.body, &mut self.pos)?;
        if delta == 0 {
            return None;
        }
        let value = leb128::decode(self.body, &mut self.pos)?;
        self.prev += delta as i64;
        Some((self.prev as u32, value))
    }
}

/// Adds `v` into `slot`, saturating at `u64::MAX` (counts are summed this
/// way everywhere: pools, compaction, merges, reports). True if it saturated.
#[inline]
pub fn add_saturating(slot: &mut u64, v: u64) -> bool {
    let (sum, overflow) = slot.overflowing_add(v);
    *slot = if overflow { u64::MAX } else { sum };
    overflow
}

/// Adds `src` into `dst` element-wise with [`add_saturating`]; true if
/// anything saturated.
pub fn add_all_saturating(dst: &mut [u64], src: &[u64]) -> bool {
    let mut saturated = false;
    for (d, s) in dst.iter_mut().zip(src) {
        saturated |= add_saturating(d, *s);
    }
    saturated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> CountersHeader {
        CountersHeader {
            flags: 0,
            meta_hash: [0xab; 16],
            pid: 4242,
            start_ns: 1_700_000_000_000_000_000,
            write_ns: 1_700_000_000_500_000_000,
            num_counters: 100_000,
            end: 15,
            runs: 1,
        }
    }

    fn args() -> Vec<(String, String)> {
        vec![
            ("argv".into(), "./app".into()),
            ("argv".into(), "--x".into()),
            ("os".into(), "linux".into()),
        ]
    }

    #[test]
    fn round_trip_sparse() {
        let counters = vec![(0, 1), (1, 5), (7, u64::MAX), (99_999, 3)];
        let bytes = encode(&header(), &args(), counters.iter().copied());
        assert_eq!(bytes.len() % 8, 0);
        let f = CountersFile::parse(&bytes).unwrap();
        assert_eq!(*f.header(), header());
        assert_eq!(f.args(), &args()[..]);
        assert_eq!(f.entries().collect::<Vec<_>>(), counters);
        let mut entries = vec![(5, 5)];
        let g = CountersFile::parse_into(&bytes, &mut entries).unwrap();
        assert_eq!(*g.header(), header());
        assert_eq!(entries, counters);
    }

    #[test]
    fn zeros_and_out_of_order_are_dropped() {
        let bytes = encode(
            &header(),
            &[],
            [(3, 0), (5, 2), (4, 9), (5, 1), (200_000, 1)],
        );
        let f = CountersFile::parse(&bytes).unwrap();
        assert_eq!(f.entries().collect::<Vec<_>>(), vec![(5, 2)]);
    }

    #[test]
    fn large_files_cross_the_staging_buffer() {
        let counters: Vec<(u32, u64)> = (0..50_000)
            .map(|i| (i * 2, u64::from(i) * 1000 + 1))
            .collect();
        let bytes = encode(&header(), &args(), counters.iter().copied());
        assert!(bytes.len() > 4 * STAGING);
        let f = CountersFile::parse(&bytes).unwrap();
        assert_eq!(f.entries().collect::<Vec<_>>(), counters);
        let mut dense = vec![0u64; 100_000];
        assert!(!f.add_into(&mut dense));
        assert!(f.add_into(&mut vec![u64::MAX; 100_000]));
        assert_eq!(dense[4], 2001);
    }

    #[test]
    fn every_truncation_and_flip_is_detected() {
        let bytes = encode(&header(), &args(), [(1, 1), (2, 300)]);
        for len in 0..bytes.len() {
            assert!(
                CountersFile::parse(&bytes[..len]).is_err(),
                "prefix {len} accepted"
            );
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x04;
            assert!(CountersFile::parse(&bad).is_err(), "flip at {i} accepted");
            assert!(
                CountersFile::parse_into(&bad, &mut Vec::new()).is_err(),
                "flip at {i} accepted by parse_into"
            );
        }
    }

    #[test]
    fn future_version_is_named() {
        let mut bytes = encode(&header(), &[], [(1, 1)]);
        bytes[8] = 2;
        let err = CountersFile::parse(&bytes).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::UnsupportedVersion(2));
    }
}
