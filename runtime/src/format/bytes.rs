//! A bounds-checked cursor over a byte slice. Every read checks the length
//! first, so malformed input yields an error, never a panic.

use super::error::{FormatError, Result};
use super::leb128;

/// Cursor over `data`; `what` names the structure in error messages.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, pos: 0, what }
    }

    /// Current offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(FormatError::truncated(format!(
                "{}: need {} bytes at offset {}, have {}",
                self.what,
                n,
                self.pos,
                self.remaining()
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Takes a little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.bytes(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// Takes a little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.bytes(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// Takes an unsigned LEB128 value.
    pub fn uleb(&mut self) -> Result<u64> {
        leb128::decode(self.data, &mut self.pos).ok_or_else(|| {
            FormatError::truncated(format!(
                "{}: bad or truncated LEB128 at offset {}",
                self.what, self.pos
            ))
        })
    }

    /// Takes a LEB128 length that must fit in what is left of the input.
    pub fn len_prefix(&mut self) -> Result<usize> {
        let n = self.uleb()?;
        if n > self.remaining() as u64 {
            return Err(FormatError::truncated(format!(
                "{}: length {} at offset {} exceeds the {} bytes left",
                self.what,
                n,
                self.pos,
                self.remaining()
            )));
        }
        Ok(n as usize)
    }
}

/// Reads a little-endian u32 at `off` of a slice already checked to be long enough.
pub fn le_u32(data: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(data[off..off + 4].try_into().expect("4 bytes"))
}

/// Reads a little-endian u64 at `off` of a slice already checked to be long enough.
pub fn le_u64(data: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(data[off..off + 8].try_into().expect("8 bytes"))
}

/// Zero bytes needed after `len` to reach a multiple of 8.
pub fn pad8(len: usize) -> usize {
    (8 - len % 8) % 8
}
