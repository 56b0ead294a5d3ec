//! Ordered key/value string tables (covmeta Ident, covcounters args):
//! `ULEB count`, then `count` x (`ULEB len`, key bytes, `ULEB len`, value bytes).
//! Keys may repeat (`argv`); order is kept.

use super::bytes::Reader;
use super::error::Result;
use super::leb128;

/// Appends the encoding of `pairs` to `out`.
pub fn encode<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)], out: &mut Vec<u8>) {
    leb128::push(out, pairs.len() as u64);
    for (k, v) in pairs {
        for s in [k.as_ref(), v.as_ref()] {
            leb128::push(out, s.len() as u64);
            out.extend_from_slice(s);
        }
    }
}

/// Decodes a table that must fill `data` exactly. Bytes that are not UTF-8
/// (a non-UTF-8 argv) are replaced, as for display.
pub fn decode(data: &[u8], what: &'static str) -> Result<Vec<(String, String)>> {
    let mut r = Reader::new(data, what);
    let count = r.uleb()?;
    // Each pair takes at least two bytes, which bounds the allocation.
    let mut pairs = Vec::with_capacity(count.min(data.len() as u64 / 2) as usize);
    for _ in 0..count {
        let klen = r.len_prefix()?;
        let key = String::from_utf8_lossy(r.bytes(klen)?).into_owned();
        let vlen = r.len_prefix()?;
        let value = String::from_utf8_lossy(r.bytes(vlen)?).into_owned();
        pairs.push((key, value));
    }
    if r.remaining() != 0 {
        return Err(super::error::FormatError::corrupt(format!(
            "{what}: {} unexpected bytes after the table",
            r.remaining()
        )));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_with_repeats_and_empty() {
        let pairs = [("argv", "a"), ("argv", ""), ("os", "linux")];
        let mut out = Vec::new();
        super::encode(&pairs, &mut out);
        let back = super::decode(&out, "t").unwrap();
        let want: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(back, want);
    }

    #[test]
    fn rejects_overlong_length() {
        assert!(super::decode(&[1, 200, b'a'], "t").is_err());
        assert!(super::decode(&[1, 1, b'a'], "t").is_err());
        assert!(super::decode(&[0, 0], "t").is_err());
    }
}
