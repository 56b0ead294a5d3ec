//! covbundle: a COVDIR as one stream (docs/CENTER.md), the body of a
//! profile answer.

use crate::source::MemDir;

/// First bytes of every covbundle.
pub const MAGIC: &[u8; 8] = b"CWBUNDL1";

/// Why bytes are not a covbundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleError(pub String);

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad covbundle: {}", self.0)
    }
}

impl std::error::Error for BundleError {}

/// Encodes the files of `dir`, in name order.
pub fn encode(dir: &MemDir) -> Vec<u8> {
    let size: usize = dir.files().map(|(n, b)| 10 + n.len() + b.len()).sum();
    let mut out = Vec::with_capacity(12 + size);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(dir.len() as u32).to_le_bytes());
    for (name, bytes) in dir.files() {
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// Decodes a bundle into a [`MemDir`] called `origin` in messages. Every
/// length is checked against what remains; names must be 1..=255 bytes of
/// UTF-8 without `/` and appear once.
pub fn decode(data: &[u8], origin: &str) -> Result<MemDir, BundleError> {
    let bad = |m: String| BundleError(m);
    let mut rest = data;
    let mut take = |n: usize, what: &str| -> Result<&[u8], BundleError> {
        if rest.len() < n {
            return Err(bad(format!(
                "ends inside {what} ({} bytes left, {n} needed)",
                rest.len()
            )));
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Ok(head)
    };
    if take(8, "the magic")? != MAGIC {
        return Err(bad("wrong magic (not a covbundle)".into()));
    }
    let n = u32::from_le_bytes(take(4, "the entry count")?.try_into().expect("4"));
    let mut dir = MemDir::new(origin);
    for i in 0..n {
        let len = u16::from_le_bytes(take(2, "a name length")?.try_into().expect("2")) as usize;
        if len == 0 || len > 255 {
            return Err(bad(format!("entry {i}: name length {len} not in 1..=255")));
        }
        let name = std::str::from_utf8(take(len, "a name")?)
            .map_err(|_| bad(format!("entry {i}: name is not UTF-8")))?
            .to_string();
        if name.contains('/') || name == "." || name == ".." {
            return Err(bad(format!("entry {i}: name {name:?} is not a file name")));
        }
        let size = u64::from_le_bytes(take(8, "a data length")?.try_into().expect("8"));
        let size = usize::try_from(size).map_err(|_| bad(format!("entry {i}: too long")))?;
        let bytes = take(size, "a file")?;
        if dir.get(&name).is_some() {
            return Err(bad(format!("entry {i}: {name} appears twice")));
        }
        dir.insert(name, bytes);
    }
    if !rest.is_empty() {
        return Err(bad(format!("{} bytes after the last entry", rest.len())));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut dir = MemDir::new("x");
        dir.insert("covmeta.00", vec![1u8, 2, 3]);
        dir.insert("b", Vec::<u8>::new());
        let bytes = encode(&dir);
        assert_eq!(decode(&bytes, "x").unwrap(), dir);
        assert_eq!(decode(&encode(&MemDir::new("y")), "y").unwrap().len(), 0);
    }

    #[test]
    fn every_truncation_and_overrun_is_an_error() {
        let mut dir = MemDir::new("x");
        dir.insert("covmeta.00", vec![7u8; 40]);
        dir.insert("other", vec![9u8; 3]);
        let bytes = encode(&dir);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], "x").is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(decode(&long, "x").is_err());
        let mut huge = bytes.clone();
        // The first entry's data length claims more than there is.
        huge[8 + 4 + 2 + 10..8 + 4 + 2 + 10 + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&huge, "x").is_err());
        let mut slash = bytes;
        slash[8 + 4 + 2] = b'/';
        assert!(decode(&slash, "x")
            .unwrap_err()
            .0
            .contains("not a file name"));
    }
}
