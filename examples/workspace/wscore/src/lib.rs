//! Core library of the workspace example: generic helpers that `app` uses.

/// A type that can name itself and its fields.
/// `#[derive(Describe)]` from the `wsmacros` crate implements it for structs.
pub trait Describe {
    fn type_name(&self) -> &'static str;
    fn field_names(&self) -> &'static [&'static str];

    fn describe(&self) -> String {
        format!(
            "{} {{ {} }}",
            self.type_name(),
            self.field_names().join(", ")
        )
    }
}

/// Count, minimum, maximum and mean of some numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary<T> {
    pub count: usize,
    pub min: T,
    pub max: T,
    pub mean: f64,
}

/// Summarises a slice of any numbers that convert losslessly to `f64`;
/// `None` for an empty slice.
///
/// ```
/// let s = wscore::summarize(&[3u32, 1, 2]).unwrap();
/// assert_eq!((s.count, s.min, s.max), (3, 1, 3));
/// assert_eq!(s.mean, 2.0);
/// assert!(wscore::summarize::<u8>(&[]).is_none());
/// ```
pub fn summarize<T: Copy + PartialOrd + Into<f64>>(values: &[T]) -> Option<Summary<T>> {
    let (&first, rest) = values.split_first()?;
    let mut s = Summary {
        count: values.len(),
        min: first,
        max: first,
        mean: 0.0,
    };
    for &v in rest {
        if v < s.min {
            s.min = v;
        } else if v > s.max {
            s.max = v;
        }
    }
    s.mean = values.iter().map(|&v| v.into()).sum::<f64>() / values.len() as f64;
    Some(s)
}

/// Formats an integer with `,` between groups of three digits.
/// `itoa` does the digit conversion without going through `fmt`.
///
/// ```
/// assert_eq!(wscore::group_thousands(1234567u32), "1,234,567");
/// assert_eq!(wscore::group_thousands(-1000i64), "-1,000");
/// ```
pub fn group_thousands<I: itoa::Integer>(n: I) -> String {
    let mut buf = itoa::Buffer::new();
    let text = buf.format(n);
    let (sign, digits) = match text.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", text),
    };
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A quantity that knows how to print itself for people.
pub trait Measure {
    fn pretty(&self) -> String;
}

/// A size in bytes, printed with binary units.
#[derive(Debug, Clone, Copy)]
pub struct Bytes(pub u64);

/// A duration in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Millis(pub u64);

impl Measure for Bytes {
    fn pretty(&self) -> String {
        const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
        let mut value = self.0 as f64;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < UNITS.len() {
            value /= 1024.0;
            unit += 1;
        }
        if unit == 0 {
            format!("{} B", self.0)
        } else {
            format!("{value:.1} {}", UNITS[unit])
        }
    }
}

impl Measure for Millis {
    fn pretty(&self) -> String {
        if self.0 < 1000 {
            format!("{} ms", self.0)
        } else {
            format!("{:.3} s", self.0 as f64 / 1000.0)
        }
    }
}

/// Pretty-prints every item of a slice of one measure type.
pub fn pretty_all<M: Measure>(items: &[M]) -> Vec<String> {
    items.iter().map(Measure::pretty).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarize_floats_and_ints() {
        let s = summarize(&[2.5f32, -1.0, 4.0]).unwrap();
        assert_eq!((s.min, s.max), (-1.0, 4.0));
        assert!((s.mean - 1.8333).abs() < 1e-3);
        assert_eq!(summarize(&[7u8]).unwrap().mean, 7.0);
    }

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0u8), "0");
        assert_eq!(group_thousands(999u16), "999");
        assert_eq!(group_thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn measures() {
        assert_eq!(
            pretty_all(&[Bytes(512), Bytes(1536), Bytes(5 << 20)]),
            ["512 B", "1.5 KiB", "5.0 MiB"]
        );
        assert_eq!(Millis(42).pretty(), "42 ms");
        assert_eq!(Millis(1500).pretty(), "1.500 s");
    }
}
