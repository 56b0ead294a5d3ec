//! The library's error type: a kind, the file it is about, and a one-line
//! detail. The CLI prints it as `covdata: <path>: <detail>`.

use std::fmt;
use std::path::{Path, PathBuf};

use covwrap_rt::format::{ErrorKind as FormatKind, FormatError};

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading or writing a file failed.
    Io,
    /// An input directory does not exist.
    NotFound,
    /// An input path is not a directory.
    NotADirectory,
    /// An input directory holds no coverage files, or no input holds a pod.
    NoData,
    /// A file is not of the kind its name says.
    BadMagic,
    /// A file (or the LLVM data inside it) has a version this build cannot read.
    UnsupportedVersion(u32),
    /// A file ends before its own structure says it should.
    Truncated,
    /// A file is complete but inconsistent.
    Corrupt,
    /// Valid input using a feature this build does not support.
    Unsupported,
    /// A counter file whose meta file is in none of the input directories.
    MissingMeta,
    /// A counter file whose counter count differs from its meta file's.
    CounterMismatch,
    /// Bad command-line usage.
    Usage,
}

/// An error with the file it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    path: Option<PathBuf>,
    detail: String,
}

/// Result of library functions.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` with a one-line `detail`, not yet tied to a file.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Error {
        Error {
            kind,
            path: None,
            detail: detail.into(),
        }
    }

    /// Shorthand for a [`ErrorKind::Corrupt`] error.
    pub fn corrupt(detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Corrupt, detail)
    }

    /// Shorthand for a [`ErrorKind::Truncated`] error.
    pub fn truncated(detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Truncated, detail)
    }

    /// An I/O error on `path`.
    pub fn io(path: &Path, err: &std::io::Error) -> Error {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Io,
        };
        Error::new(kind, err.to_string()).at(path)
    }

    /// Attaches the file the error is about (keeps an existing one).
    pub fn at(mut self, path: &Path) -> Error {
        if self.path.is_none() {
            self.path = Some(path.to_path_buf());
        }
        self
    }

    /// Prefixes the detail, e.g. with the structure being decoded.
    pub fn context(mut self, what: &str) -> Error {
        self.detail = format!("{what}: {}", self.detail);
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The file the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The one-line detail, without the path.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

impl std::error::Error for Error {}

impl From<FormatError> for Error {
    fn from(e: FormatError) -> Error {
        let kind = match e.kind() {
            FormatKind::BadMagic => ErrorKind::BadMagic,
            FormatKind::UnsupportedVersion(v) => ErrorKind::UnsupportedVersion(*v),
            FormatKind::Truncated => ErrorKind::Truncated,
            FormatKind::Corrupt => ErrorKind::Corrupt,
            FormatKind::Io => ErrorKind::Io,
            _ => ErrorKind::Unsupported,
        };
        // The format crate's wording already says what is wrong ("truncated:
        // ..."); keep it whole.
        Error::new(kind, e.to_string())
    }
}
