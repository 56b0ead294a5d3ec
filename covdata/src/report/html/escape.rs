//! HTML escaping and the pages' file names.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use covwrap_rt::format::md5::{hex, md5};

/// Bytes that [`push_escaped`] replaces.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t
};

/// Appends `text` to `out` with `&`, `<`, `>`, `"` and `'` escaped, so the
/// result is safe both as element text and inside a quoted attribute.
pub fn push_escaped(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !SPECIAL[b as usize] {
            continue;
        }
        out.push_str(&text[last..i]);
        out.push_str(match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// Writes pieces of one text for element content only (never an
/// attribute): `&`, `<` and `>` escaped, quotes left as they are (source
/// code is full of them, and pages are written per byte of source). The
/// specials of the whole text are found by one forward vectorized scan
/// (memchr), not a search per piece: a page is hundreds of thousands of
/// short pieces.
pub struct TextEscaper<'t> {
    text: &'t str,
    specials: memchr::Memchr3<'t>,
    /// The first special not yet written (`usize::MAX`: none left).
    next: usize,
}

impl<'t> TextEscaper<'t> {
    /// An escaper for pieces of `text`.
    pub fn new(text: &'t str) -> TextEscaper<'t> {
        let mut specials = memchr::memchr3_iter(b'&', b'<', b'>', text.as_bytes());
        let next = specials.next().unwrap_or(usize::MAX);
        TextEscaper {
            text,
            specials,
            next,
        }
    }

    /// Appends `text[from..to]` escaped. Pieces come in text order and do
    /// not overlap.
    pub fn push(&mut self, out: &mut String, from: usize, to: usize) {
        let mut at = from;
        while self.next < to {
            let i = self.next;
            self.next = self.specials.next().unwrap_or(usize::MAX);
            if i < at {
                continue;
            }
            out.push_str(&self.text[at..i]);
            out.push_str(match self.text.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                _ => "&gt;",
            });
            at = i + 1;
        }
        out.push_str(&self.text[at..to]);
    }
}

/// `text` escaped as [`push_escaped`] does.
pub fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// The longest readable part of a page name, in bytes.
const MAX_STEM: usize = 80;

/// Page file names for the display paths `paths` (in that order): the
/// path's last components with every byte outside `[A-Za-z0-9._-]` made
/// `_`, then 12 hex digits of the path's MD5, then `.html`. A name has no
/// `/`, never starts with a dot and never is `.` or `..`, so it cannot
/// leave the directory or hide; the same paths always give the same
/// names; and a collision of the hash prefix (or two equal paths) gets a
/// numbered suffix, in order, so no two paths share a page.
pub fn page_names<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken = BTreeSet::new();
    let mut names = Vec::new();
    for path in paths {
        let digest = hex(&md5(path.as_bytes()));
        let mut stem = readable_stem(path);
        let _ = write!(stem, ".{}", &digest[..12]);
        let mut name = format!("{stem}.html");
        let mut n = 1;
        while !taken.insert(name.clone()) {
            n += 1;
            name = format!("{stem}-{n}.html");
        }
        names.push(name);
    }
    names
}

/// The last components of `path` that fit in [`MAX_STEM`] bytes (at
/// least the last one, cut to its end), joined by `_`, unsafe bytes
/// replaced, leading dots and underscores dropped.
fn readable_stem(path: &str) -> String {
    // The first component start from which the rest fits.
    let starts = std::iter::once(0).chain(path.match_indices('/').map(|(i, _)| i + 1));
    let start = starts
        .filter(|&s| s < path.len())
        .find(|&s| path.len() - s <= MAX_STEM)
        .unwrap_or(path.len().saturating_sub(MAX_STEM));
    let safe: String = path.as_bytes()[start..]
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => b as char,
            _ => '_',
        })
        .collect();
    let stem = safe.trim_start_matches(['.', '_']);
    if stem.is_empty() {
        "file".to_string()
    } else {
        stem.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        assert_eq!(
            escaped(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escaped("plain é"), "plain é");
        let text = r#"if a<b && c>"d" {'x'} <>"#;
        let mut t = String::new();
        let mut pieces = TextEscaper::new(text);
        for (from, to) in [(0, 4), (4, 6), (6, 6), (6, 20), (22, 24)] {
            pieces.push(&mut t, from, to);
        }
        // The skipped "} " holds no special; the last piece is "<>".
        assert_eq!(t, r#"if a&lt;b &amp;&amp; c&gt;"d" {'x'&lt;&gt;"#);
        // A special in a gap between pieces is not written.
        let mut t = String::new();
        let mut pieces = TextEscaper::new("a<b>c");
        pieces.push(&mut t, 0, 1);
        pieces.push(&mut t, 3, 5);
        assert_eq!(t, "a&gt;c");
    }

    #[test]
    fn page_names_are_safe_unique_and_stable() {
        let paths = [
            "src/main.rs",
            "src_main.rs",
            "../../etc/passwd",
            "..",
            "/abs/.hidden.rs",
            "src/main.rs",
            "a b/<x>.rs",
        ];
        let names = page_names(paths.iter().copied());
        assert_eq!(names, page_names(paths.iter().copied()));
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for n in &names {
            assert!(!n.contains('/') && !n.starts_with('.'), "{n}");
            assert!(n.ends_with(".html"), "{n}");
            assert!(
                n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                "{n}"
            );
        }
        assert!(names[0].starts_with("src_main.rs."), "{}", names[0]);
        let deep = "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/encoding_rs-0.8.35/src/data.rs";
        let name = &page_names([deep])[0];
        assert!(
            name.starts_with(
                "registry_src_index.crates.io-1949cf8c6b5b557f_encoding_rs-0.8.35_src_data.rs."
            ),
            "{name}"
        );
        assert!(names[5].ends_with("-2.html"), "{}", names[5]);
        let long = "d/".repeat(200) + "file.rs";
        let name = &page_names([long.as_str()])[0];
        assert!(name.len() < MAX_STEM + 20, "{name}");
    }
}
