//! Decimal digits without `core::fmt`, for the reports that write millions
//! of numbers (textfmt's lines, the HTML pages): byte for byte what `{n}`
//! prints, at a fraction of the cost.

/// Two-digit pairs "00".."99".
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The decimal digits of `n` at the end of `buf`; returns where they start.
pub(crate) fn digits(mut n: u64, buf: &mut [u8; 20]) -> usize {
    let mut at = buf.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + n as u8;
    }
    at
}

/// Writes `v` in decimal into `out` at `at`; returns the position after
/// it. `out` must have room for 20 digits.
pub(crate) fn put_decimal(out: &mut [u8], at: usize, v: u64) -> usize {
    let mut buf = [0u8; 20];
    let start = digits(v, &mut buf);
    let end = at + buf.len() - start;
    out[at..end].copy_from_slice(&buf[start..]);
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_what_format_prints() {
        let mut values = vec![u64::MAX, u64::MAX - 1, u64::from(u32::MAX)];
        for p in 0..20 {
            let ten = 10u64.pow(p);
            values.extend([ten - 1, ten, ten + 1, ten.wrapping_mul(7).wrapping_add(3)]);
        }
        for v in values {
            let mut out = [b'x'; 24];
            let end = put_decimal(&mut out, 2, v);
            assert_eq!(&out[2..end], v.to_string().as_bytes());
            assert_eq!(out[end..], [b'x'; 24][end..]);
        }
    }
}
