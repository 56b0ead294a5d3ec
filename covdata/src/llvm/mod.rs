//! Decoders for the LLVM coverage data a meta file carries verbatim:
//! `__llvm_prf_names` ([`names`]), `__llvm_covmap` ([`covmap`]),
//! `__llvm_covfun` ([`covfun`]) and each function's mapping ([`mapping`]).
//!
//! Layouts and rules follow LLVM 22's `CoverageMappingReader.cpp` and
//! `InstrProf.cpp` (coverage mapping format version 7, stored as 6); the
//! project's reference notes describe them byte by byte. Malformed input is
//! an error, never a panic: every length is checked against what is left.

pub mod covfun;
pub mod covmap;
pub mod mapping;
pub mod names;
pub mod write;

use crate::error::{Error, Result};

/// The only coverage-mapping version (as stored) this build reads: LLVM's
/// `CovMapVersion::Version7`, written by LLVM 18 through 22.
pub const COVMAP_VERSION: u32 = 6;

/// A bounds-checked cursor over LLVM data.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Unsigned LEB128, at most 64 bits.
    #[inline]
    pub(crate) fn uleb(&mut self) -> Result<u64> {
        // Most values of a mapping fit in one byte.
        if let Some(&byte) = self.data.get(self.pos) {
            if byte < 0x80 {
                self.pos += 1;
                return Ok(u64::from(byte));
            }
        }
        self.uleb_long()
    }

    fn uleb_long(&mut self) -> Result<u64> {
        covwrap_rt::format::leb128::decode(self.data, &mut self.pos)
            .ok_or_else(|| Error::truncated(format!("bad LEB128 at offset {}", self.pos)))
    }

    /// A LEB128 value that must be below `max_plus_1` (LLVM's `readIntMax`).
    #[inline]
    pub(crate) fn uleb_below(&mut self, max_plus_1: u64, what: &str) -> Result<u64> {
        let v = self.uleb()?;
        if v >= max_plus_1 {
            return Err(Error::corrupt(format!("{what} {v} is out of range")));
        }
        Ok(v)
    }

    /// A LEB128 count or length that cannot exceed the bytes left (LLVM's
    /// `readSize`), which also bounds any allocation it drives.
    pub(crate) fn size(&mut self, what: &str) -> Result<usize> {
        let v = self.uleb()?;
        if v > self.remaining() as u64 {
            return Err(Error::corrupt(format!(
                "{what} {v} exceeds the {} bytes left",
                self.remaining()
            )));
        }
        Ok(v as usize)
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::truncated(format!(
                "need {n} bytes at offset {}, have {}",
                self.pos,
                self.remaining()
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes(4)?.try_into().expect("4")))
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.bytes(8)?.try_into().expect("8")))
    }

    /// Moves to the next multiple of 8 from the start of the data.
    pub(crate) fn align8(&mut self) {
        self.pos = (self.pos + 7) & !7;
    }
}

/// The most a zlib stream may claim to inflate to, per compressed byte.
/// Deflate's own limit is about 1032:1; LLVM's names and filenames compress
/// far less (mangled names and paths, typically 3–10:1), so a claim above
/// this is a decompression bomb and is refused before anything is allocated.
pub const MAX_INFLATE_RATIO: u64 = 256;

/// Inflates a zlib stream (RFC 1950) to at most the `expected` bytes its
/// header declares. The claim is checked against [`MAX_INFLATE_RATIO`]
/// before allocating, and inflating stops at `expected`, so memory is
/// bounded by both the declared size and the input's size.
pub(crate) fn inflate(data: &[u8], expected: u64, what: &str) -> Result<Vec<u8>> {
    let cap = (data.len() as u64).saturating_mul(MAX_INFLATE_RATIO);
    if expected > cap {
        return Err(Error::corrupt(format!(
            "{what}: claims {expected} bytes uncompressed from {} compressed, more than \
             {MAX_INFLATE_RATIO}:1 (a decompression bomb?)",
            data.len()
        )));
    }
    let limit = usize::try_from(expected)
        .map_err(|_| Error::corrupt(format!("{what}: uncompressed size {expected} is too big")))?;
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, limit).map_err(|e| {
        Error::corrupt(format!(
            "{what}: zlib data does not inflate within the {expected} bytes declared ({:?})",
            e.status
        ))
    })
}
