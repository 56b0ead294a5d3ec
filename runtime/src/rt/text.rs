//! Fixed-capacity text and path buffers for the exit and signal paths, which
//! must not allocate: `core::fmt` formatting into them takes no locks and
//! no heap.

use std::fmt;

/// A byte buffer of capacity `N` that silently truncates on overflow and
/// remembers that it did.
pub struct StackBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflowed: bool,
}

impl<const N: usize> StackBuf<N> {
    pub const fn new() -> Self {
        StackBuf {
            buf: [0; N],
            len: 0,
            overflowed: false,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let take = bytes.len().min(N - self.len);
        self.buf[self.len..self.len + take].copy_from_slice(&bytes[..take]);
        self.len += take;
        self.overflowed |= take < bytes.len();
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// The contents plus a terminating NUL, for system calls; `None` if the
    /// buffer overflowed (a truncated path must never be used).
    pub fn c_path(&mut self) -> Option<&[u8]> {
        if self.overflowed || self.len == N {
            return None;
        }
        self.buf[self.len] = 0;
        Some(&self.buf[..=self.len])
    }
}

impl<const N: usize> fmt::Write for StackBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// Writes one line to stderr without allocating. Errors are ignored: there
/// is nowhere left to report them.
pub fn eprint_line(args: fmt::Arguments<'_>) {
    let mut line = StackBuf::<1024>::new();
    let _ = fmt::write(&mut line, args);
    line.truncate(1023);
    line.push(b"\n");
    let _ = super::sys::write_all(2, line.as_bytes());
}
