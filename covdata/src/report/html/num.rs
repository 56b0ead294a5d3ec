//! Numbers as the pages print them, without `core::fmt`: a report writes
//! millions of line numbers and counts and tens of thousands of
//! percentages, and the formatting machinery costs several times the
//! digits. The output is byte for byte `format!("{n}")` and
//! `format!("{v:.N$}")` (the tests compare them).

use crate::report::decimal::digits;

/// Appends `n` in decimal, as `{n}` does.
pub fn push_decimal(out: &mut String, n: u64) {
    out.push_str(Decimal::new(n).as_str());
}

/// A number's decimal digits, for text that repeats them.
pub struct Decimal {
    buf: [u8; 20],
    at: usize,
}

impl Decimal {
    /// The digits of `n`.
    pub fn new(n: u64) -> Decimal {
        let mut buf = [0u8; 20];
        let at = digits(n, &mut buf);
        Decimal { buf, at }
    }

    /// The digits, as `{n}` prints them.
    pub fn as_str(&self) -> &str {
        // SAFETY: `digits` wrote ASCII digits from `at` on.
        unsafe { std::str::from_utf8_unchecked(&self.buf[self.at..]) }
    }
}

/// Appends `v` with `places` decimals (at most 3), as `{v:.places$}`
/// does: the exact binary value rounded half to even. Values this does
/// not handle exactly (negative, not finite, 2^60 and above) go through
/// `core::fmt`.
pub fn push_fixed(out: &mut String, v: f64, places: u32) {
    match scaled_round(v, places) {
        Some(q) => {
            let unit = 10u64.pow(places);
            push_decimal(out, q / unit);
            if places > 0 {
                out.push('.');
                let mut buf = [0u8; 20];
                let at = digits(q % unit + unit, &mut buf);
                // The leading 1 of `unit` pads the fraction with zeros.
                // SAFETY: ASCII digits are valid UTF-8.
                out.push_str(unsafe { std::str::from_utf8_unchecked(&buf[at + 1..]) });
            }
        }
        None => {
            use std::fmt::Write as _;
            let _ = write!(out, "{v:.*}", places as usize);
        }
    }
}

/// `v * 10^places` rounded half to even, computed exactly from the bits
/// of `v`; `None` outside `+0 <= v < 2^60` or for `places > 3`.
fn scaled_round(v: f64, places: u32) -> Option<u64> {
    if !(v.is_sign_positive() && v < (1u64 << 60) as f64) || places > 3 {
        return None;
    }
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    // v * 10^places = mantissa * 10^places * 2^exp, below 2^63 * 2^10.
    let n = u128::from(mantissa) * u128::from(10u64.pow(places));
    if exp >= 0 {
        return u64::try_from(n << exp).ok();
    }
    let shift = exp.unsigned_abs();
    if shift > 120 {
        // Below 2^63 * 2^-120: less than a half.
        return Some(0);
    }
    let q = n >> shift;
    let rest = n & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    let up = rest > half || (rest == half && q & 1 == 1);
    u64::try_from(q + u128::from(up)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(v: f64, places: u32) -> String {
        let mut s = String::new();
        push_fixed(&mut s, v, places);
        s
    }

    #[test]
    fn decimals_are_display() {
        let mut n = 1u64;
        let mut s = String::new();
        for v in [
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            65_535,
            u64::MAX - 1,
            u64::MAX,
        ] {
            s.clear();
            push_decimal(&mut s, v);
            assert_eq!(s, v.to_string());
        }
        while n < u64::MAX / 3 {
            for v in [n - 1, n, n + 1] {
                s.clear();
                push_decimal(&mut s, v);
                assert_eq!(s, v.to_string());
            }
            n *= 3;
        }
    }

    #[test]
    fn percentages_are_display() {
        // Every ratio of small counts, as the pages compute them.
        for total in 1..=400u64 {
            for covered in 0..=total {
                let v = covered as f64 * 100.0 / total as f64;
                for places in 0..=3 {
                    assert_eq!(fixed(v, places), format!("{v:.*}", places as usize));
                }
            }
        }
    }

    #[test]
    fn ties_and_edges_are_display() {
        let values = [
            0.0,
            0.125,
            0.375,
            0.625,
            2.5,
            0.05,
            0.15,
            99.995,
            99.9949999,
            5e-324,
            1e-300,
            4503599627370495.5,
            (1u64 << 59) as f64,
            (1u64 << 60) as f64,
            1e30,
            -0.0,
            -1.25,
            f64::INFINITY,
            f64::NAN,
        ];
        for v in values {
            for places in 0..=3 {
                assert_eq!(fixed(v, places), format!("{v:.*}", places as usize), "{v}");
            }
        }
        // Arbitrary bit patterns (a fixed LCG, so the test is repeatable).
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let v = f64::from_bits(x >> 2);
            let w = (x >> 11) as f64 / 1024.0;
            for places in 0..=3 {
                let p = places as usize;
                assert_eq!(fixed(v, places), format!("{v:.p$}"), "{v:e}");
                assert_eq!(fixed(w, places), format!("{w:.p$}"), "{w}");
            }
        }
    }
}
