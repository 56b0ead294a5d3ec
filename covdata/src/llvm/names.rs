//! `__llvm_prf_names`: one or more blobs (one per codegen unit), each
//! `ULEB uncompressed size, ULEB compressed size (0 = stored), payload`,
//! separated by any number of zero bytes. The payload is the mangled names
//! joined by 0x01. A function's NameRef is the MD5 of its name's bytes,
//! low 8 bytes as a little-endian u64.

use std::ops::Range;

use covwrap_rt::format::md5::md5_u64_many;

use super::{inflate, Cursor};
use crate::error::{Error, Result};
use crate::fasthash::FastMap;
use crate::parallel;

/// NameRef → mangled name.
#[derive(Clone, Debug, Default)]
pub struct NameTable {
    /// Every name of every blob, in section order (invalid UTF-8 replaced).
    text: String,
    /// NameRef → the first name with that hash, as a range of `text`.
    names: FastMap<u64, Range<usize>>,
}

impl NameTable {
    /// Decodes every blob of a names section. Blobs are inflated and
    /// hashed on several threads (a big binary has hundreds, one per
    /// codegen unit), then joined in section order, so that the first name
    /// with a hash wins and the first error in the section is the one
    /// returned.
    pub fn decode(section: &[u8]) -> Result<NameTable> {
        let (blobs, scan_error) = scan(section);
        let decoded = parallel::map(&blobs, || (), |blob, _| blob.decode());
        let mut table = NameTable::default();
        let names: usize = decoded.iter().flatten().map(|b| b.names.len()).sum();
        table.names.reserve(names);
        for blob in decoded {
            let blob = blob?;
            let start = table.text.len();
            table.text.push_str(&blob.text);
            for (name_ref, r) in blob.names {
                table
                    .names
                    .entry(name_ref)
                    .or_insert(start + r.start..start + r.end);
            }
        }
        match scan_error {
            Some(e) => Err(e),
            None => Ok(table),
        }
    }

    /// The mangled name of `name_ref`.
    pub fn get(&self, name_ref: u64) -> Option<&str> {
        self.names.get(&name_ref).map(|r| &self.text[r.clone()])
    }

    /// Number of distinct names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the table holds no name.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One blob of a names section, not yet inflated.
struct Blob<'a> {
    /// The uncompressed size it declares.
    uncompressed: u64,
    /// Whether `payload` is zlib data (else the names as stored).
    compressed: bool,
    payload: &'a [u8],
}

/// A blob's names: its text and, per name, its NameRef and range there.
struct DecodedBlob {
    text: String,
    names: Vec<(u64, Range<usize>)>,
}

/// The blobs of a section up to the first that cannot be cut out, and
/// that error.
fn scan(section: &[u8]) -> (Vec<Blob<'_>>, Option<Error>) {
    let mut blobs = Vec::new();
    let mut c = Cursor::new(section);
    let mut next = || -> Result<Option<Blob>> {
        while !c.at_end() && section[c.pos()] == 0 {
            c.bytes(1)?;
        }
        if c.at_end() {
            return Ok(None);
        }
        let uncompressed = c.uleb()?;
        let compressed = c.uleb()?;
        let len = if compressed != 0 {
            compressed
        } else {
            uncompressed
        };
        let payload = c.bytes(usize::try_from(len).unwrap_or(usize::MAX))?;
        Ok(Some(Blob {
            uncompressed,
            compressed: compressed != 0,
            payload,
        }))
    };
    loop {
        match next() {
            Ok(Some(blob)) => blobs.push(blob),
            Ok(None) => return (blobs, None),
            Err(e) => return (blobs, Some(e)),
        }
    }
}

impl Blob<'_> {
    fn decode(&self) -> Result<DecodedBlob> {
        let payload: Vec<u8> = if self.compressed {
            inflate(self.payload, self.uncompressed, "names blob")?
        } else {
            self.payload.to_vec()
        };
        // Replacing invalid UTF-8 in the whole payload or name by name
        // is the same: the separator 0x01 ends any invalid sequence and
        // a replacement character holds no 0x01. NameRef is the MD5 of
        // the bytes as they are.
        // (`from_utf8` first: its ASCII fast path is far quicker than
        // the lossy decoder's; valid text keeps the inflated buffer.)
        let (text, raw) = match String::from_utf8(payload) {
            Ok(text) => (text, None),
            Err(e) => {
                let raw = e.into_bytes();
                (String::from_utf8_lossy(&raw).into_owned(), Some(raw))
            }
        };
        // Each name's range in the text, and the bytes it was hashed from.
        let mut start = 0;
        let ranges: Vec<Range<usize>> = text
            .split('\u{1}')
            .map(|name| {
                let r = start..start + name.len();
                start = r.end + 1;
                r
            })
            .collect();
        let raw: Vec<&[u8]> = match &raw {
            Some(raw) => raw.split(|&b| b == 1).collect(),
            None => ranges.iter().map(|r| &text.as_bytes()[r.clone()]).collect(),
        };
        let names = md5_u64_many(&raw).into_iter().zip(ranges).collect();
        Ok(DecodedBlob { text, names })
    }
}

/// Encodes `names` as one stored (uncompressed) blob, as LLVM does when
/// zlib is unavailable. Used by tests and tools that build meta files.
pub fn encode_stored(names: &[&str]) -> Vec<u8> {
    let joined = names.join("\u{1}");
    let mut out = Vec::new();
    covwrap_rt::format::leb128::push(&mut out, joined.len() as u64);
    out.push(0);
    out.extend_from_slice(joined.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use covwrap_rt::format::md5::md5_u64;

    #[test]
    fn name_ref_is_md5_low_half() {
        // The reference's worked example.
        assert_eq!(
            md5_u64(b"_RNvCs32gj3y4fnmh_4main8classify"),
            0x4ba6_99ee_8375_33fc
        );
    }

    #[test]
    fn empty_names_between_separators_are_names() {
        let section = encode_stored(&["", "_RNvC1a1f", "", "b", ""]);
        let t = NameTable::decode(&section).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.get(md5_u64(b"")), Some(""));
        assert_eq!(t.get(md5_u64(b"_RNvC1a1f")), Some("_RNvC1a1f"));
        assert_eq!(t.get(md5_u64(b"b")), Some("b"));
        // Invalid UTF-8: hashed as stored, shown replaced.
        let mut bad = vec![5, 0];
        bad.extend_from_slice(b"x\xff\x01yz");
        let t = NameTable::decode(&bad).unwrap();
        assert_eq!(t.get(md5_u64(b"x\xff")), Some("x\u{fffd}"));
        assert_eq!(t.get(md5_u64(b"yz")), Some("yz"));
    }

    #[test]
    fn stored_and_compressed_blobs_with_padding() {
        let mut section = encode_stored(&["_RNvC1a1f", "_RNvC1a1g"]);
        section.extend_from_slice(&[0, 0, 0]);
        let text = b"_RNvC1b1h\x01_RNvC1a1f";
        let z = miniz_oxide::deflate::compress_to_vec_zlib(text, 9);
        covwrap_rt::format::leb128::push(&mut section, text.len() as u64);
        covwrap_rt::format::leb128::push(&mut section, z.len() as u64);
        section.extend_from_slice(&z);
        let t = NameTable::decode(&section).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.get(md5_u64(b"_RNvC1b1h")), Some("_RNvC1b1h"));
        assert_eq!(t.get(md5_u64(b"_RNvC1a1g")), Some("_RNvC1a1g"));
        assert_eq!(t.get(1), None);
    }

    #[test]
    fn invalid_utf8_is_replaced_but_hashed_as_is() {
        let raw: &[u8] = b"_RNvC1a1f\x01_RNv\xffC1a1g\xe2\x82\x01\x01_RNvC1a1h";
        let mut section = Vec::new();
        covwrap_rt::format::leb128::push(&mut section, raw.len() as u64);
        section.push(0);
        section.extend_from_slice(raw);
        let t = NameTable::decode(&section).unwrap();
        assert_eq!(t.len(), 4);
        assert_eq!(t.get(md5_u64(b"_RNvC1a1f")), Some("_RNvC1a1f"));
        assert_eq!(
            t.get(md5_u64(b"_RNv\xffC1a1g\xe2\x82")),
            Some("_RNv\u{fffd}C1a1g\u{fffd}")
        );
        assert_eq!(t.get(md5_u64(b"")), Some(""));
        assert_eq!(t.get(md5_u64(b"_RNvC1a1h")), Some("_RNvC1a1h"));
    }

    #[test]
    fn many_blobs_keep_section_order() {
        // Enough blobs to be decoded on several threads: the first blob
        // with a name wins, and every name of every blob is found.
        let mut section = Vec::new();
        for i in 0..200 {
            let text = format!("_RNvC1a{i}\u{1}shared");
            let z = miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 1);
            covwrap_rt::format::leb128::push(&mut section, text.len() as u64);
            covwrap_rt::format::leb128::push(&mut section, z.len() as u64);
            section.extend_from_slice(&z);
        }
        let t = NameTable::decode(&section).unwrap();
        assert_eq!(t.len(), 201);
        for i in 0..200 {
            let name = format!("_RNvC1a{i}");
            assert_eq!(t.get(md5_u64(name.as_bytes())), Some(name.as_str()));
        }
        assert_eq!(t.get(md5_u64(b"shared")), Some("shared"));
        // A bad blob in the middle is the error, even with a truncated
        // section after it.
        let mut bad = section.clone();
        let mut blob = vec![3u8, 3, 0x78, 0xda, 0xff];
        bad.splice(0..0, blob.drain(..));
        bad.extend_from_slice(&[9, 9]);
        let e = NameTable::decode(&bad).unwrap_err();
        assert!(e.to_string().contains("zlib"), "{e}");
        // With only the truncated end, that is the error.
        section.extend_from_slice(&[9, 9]);
        assert!(NameTable::decode(&section).is_err());
    }

    #[test]
    fn truncated_or_bad_zlib_is_an_error() {
        let section = encode_stored(&["_RNvC1a1f"]);
        for len in 1..section.len() {
            assert!(NameTable::decode(&section[..len]).is_err(), "{len}");
        }
        let bad = [5u8, 3, 0x78, 0xda, 0xff];
        assert!(NameTable::decode(&bad).is_err());
        // A compressed blob that inflates to more than it announced.
        let z = miniz_oxide::deflate::compress_to_vec_zlib(b"abcdef", 9);
        let mut over = vec![3u8, z.len() as u8];
        over.extend_from_slice(&z);
        assert!(NameTable::decode(&over).is_err());
    }
}
