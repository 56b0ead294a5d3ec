//! Unsigned LEB128: 7 data bits per byte, low group first, high bit set on
//! every byte but the last (DWARF's encoding, also LLVM's and Go's).

/// Most bytes a `u64` can take.
pub const MAX_LEN: usize = 10;

/// Encodes `value` into `out`, returning the number of bytes used.
#[inline]
pub fn encode(mut value: u64, out: &mut [u8; MAX_LEN]) -> usize {
    let mut n = 0;
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out[n] = byte;
            return n + 1;
        }
        out[n] = byte | 0x80;
        n += 1;
    }
}

/// Encodes `value` at the start of `out`, which must have room for
/// [`MAX_LEN`] bytes; returns the number of bytes used.
#[inline]
pub fn encode_into(mut value: u64, out: &mut [u8]) -> usize {
    let mut n = 0;
    while value >= 0x80 {
        out[n] = (value as u8) | 0x80;
        value >>= 7;
        n += 1;
    }
    out[n] = value as u8;
    n + 1
}

/// Appends `value` to `out`.
pub fn push(out: &mut Vec<u8>, value: u64) {
    let mut buf = [0; MAX_LEN];
    let n = encode(value, &mut buf);
    out.extend_from_slice(&buf[..n]);
}

/// Decodes one value at `*pos`, advancing it. `None` if the input ends
/// first or the value does not fit in 64 bits.
#[inline]
pub fn decode(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut result: u64 = 0;
    let mut shift = 0u32;
    loop {
        let byte = *data.get(*pos)?;
        *pos += 1;
        let bits = u64::from(byte & 0x7f);
        if shift == 63 && bits > 1 {
            return None;
        }
        result |= bits << shift;
        if byte & 0x80 == 0 {
            return Some(result);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_edges() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            16383,
            16384,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            push(&mut out, v);
            let mut pos = 0;
            assert_eq!(decode(&out, &mut pos), Some(v));
            assert_eq!(pos, out.len());
        }
    }

    #[test]
    fn encode_into_matches_encode() {
        for v in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let (mut a, mut b) = ([0u8; MAX_LEN], [0u8; MAX_LEN + 3]);
            let n = encode(v, &mut a);
            assert_eq!(encode_into(v, &mut b), n);
            assert_eq!(a[..n], b[..n]);
        }
    }

    #[test]
    fn known_encodings() {
        let mut out = Vec::new();
        push(&mut out, 624485);
        assert_eq!(out, [0xe5, 0x8e, 0x26]);
    }

    #[test]
    fn rejects_truncated_and_overlong() {
        assert_eq!(decode(&[0x80], &mut 0), None);
        assert_eq!(decode(&[], &mut 0), None);
        let too_big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(decode(&too_big, &mut 0), None);
        let eleven = [0x80; 11];
        assert_eq!(decode(&eleven, &mut 0), None);
    }
}
