//! The error type of every decoder in [`crate::format`].

use std::fmt;

/// What is wrong with a file. Callers add the file name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file does not start with the expected magic: it is not a file of
    /// this kind at all.
    BadMagic,
    /// The file is of this kind but of a version this build cannot read.
    UnsupportedVersion(u32),
    /// The file ends before its own structure says it should.
    Truncated,
    /// The file is complete but inconsistent (bad checksum, bad offsets...).
    Corrupt,
    /// The input is valid but uses a feature this build does not support.
    Unsupported,
    /// An instrumented binary was expected but the input is not one.
    NotInstrumented,
    /// Reading the input failed.
    Io,
}

/// A decoding error: a kind plus a one-line detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    kind: ErrorKind,
    detail: String,
}

impl FormatError {
    /// A new error of `kind` with a one-line `detail`.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        FormatError {
            kind,
            detail: detail.into(),
        }
    }

    /// Shorthand for [`ErrorKind::Truncated`].
    pub fn truncated(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Truncated, detail)
    }

    /// Shorthand for [`ErrorKind::Corrupt`].
    pub fn corrupt(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, detail)
    }

    /// The kind of error.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The one-line detail, without the kind's prefix.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.kind {
            ErrorKind::BadMagic => "wrong magic",
            ErrorKind::UnsupportedVersion(_) => "unsupported version",
            ErrorKind::Truncated => "truncated",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::NotInstrumented => "not instrumented",
            ErrorKind::Io => "read error",
        };
        write!(f, "{prefix}: {}", self.detail)
    }
}

impl std::error::Error for FormatError {}

impl From<std::io::Error> for FormatError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            FormatError::truncated(e.to_string())
        } else {
            FormatError::new(ErrorKind::Io, e.to_string())
        }
    }
}

/// Result of a decoder.
pub type Result<T> = std::result::Result<T, FormatError>;
