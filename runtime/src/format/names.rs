//! File names in a coverage directory (COVDIR), and their parsing.

use super::defs::{MetaHash, COUNTERS_FILE_PREFIX, HASH_LEN, LOCK_FILE_PREFIX, META_FILE_PREFIX};
use super::md5::hex;

/// `covmeta.<H>`.
pub fn meta_file_name(hash: &MetaHash) -> String {
    format!("{META_FILE_PREFIX}{}", hex(hash))
}

/// `covcounters.<H>.<pid>.<nanotime>`.
pub fn counters_file_name(hash: &MetaHash, pid: u64, nanos: u64) -> String {
    format!("{COUNTERS_FILE_PREFIX}{}.{pid}.{nanos}", hex(hash))
}

/// `.covlock.<H>`, a pod's lock file (docs/FORMAT.md, pools).
pub fn lock_file_name(hash: &MetaHash) -> String {
    format!("{LOCK_FILE_PREFIX}{}", hex(hash))
}

/// What a file name in a coverage directory denotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileName {
    /// `covmeta.<H>`.
    Meta(MetaHash),
    /// `covcounters.<H>.<pid>.<nanotime>`.
    Counters {
        /// H of the meta file.
        hash: MetaHash,
        /// Writer's process id.
        pid: u64,
        /// Write time, ns since the Unix epoch.
        nanos: u64,
    },
}

/// Parses a file name; `None` for anything else (temporary files included).
pub fn parse_file_name(name: &str) -> Option<FileName> {
    if let Some(rest) = name.strip_prefix(META_FILE_PREFIX) {
        return parse_hash(rest).map(FileName::Meta);
    }
    let rest = name.strip_prefix(COUNTERS_FILE_PREFIX)?;
    let mut parts = rest.split('.');
    let hash = parse_hash(parts.next()?)?;
    let pid = parse_decimal(parts.next()?)?;
    let nanos = parse_decimal(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    Some(FileName::Counters { hash, pid, nanos })
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses 32 lowercase hex digits.
pub fn parse_hash(s: &str) -> Option<MetaHash> {
    if s.len() != HASH_LEN * 2 {
        return None;
    }
    let mut out = [0u8; HASH_LEN];
    for (i, pair) in s.as_bytes().chunks_exact(2).enumerate() {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_names() {
        let h = [0x1f; 16];
        assert_eq!(
            parse_file_name(&meta_file_name(&h)),
            Some(FileName::Meta(h))
        );
        assert_eq!(
            parse_file_name(&counters_file_name(&h, 12, 1_700_000_000_123_456_789)),
            Some(FileName::Counters {
                hash: h,
                pid: 12,
                nanos: 1_700_000_000_123_456_789
            })
        );
    }

    #[test]
    fn ignores_other_names() {
        for name in [
            "covmeta.",
            "covmeta.1F1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f",
            ".covtmp.covmeta.1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f",
            "covcounters.1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f.1",
            "covcounters.1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f.1.2.3",
            "covcounters.1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f.-1.2",
            "default_123.profraw",
        ] {
            assert_eq!(parse_file_name(name), None, "{name}");
        }
    }
}
