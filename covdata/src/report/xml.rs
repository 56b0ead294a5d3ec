//! XML 1.0 text for the XML reports (Cobertura, Sonar): escaping that
//! keeps any path or name well-formed, and the timestamp rule.

use std::fmt::Write as _;

/// Appends `text` escaped for a double-quoted attribute or element text:
/// `& < > " '` as entities, tab, newline and carriage return as character
/// references (attribute normalisation would turn them into spaces), and
/// characters XML 1.0 cannot carry at all (other C0 controls, U+FFFE,
/// U+FFFF) as U+FFFD.
pub fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// `text` escaped as [`push_escaped`] does.
pub fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_controls_and_keeps_the_rest() {
        assert_eq!(
            escaped("a<b>&\"c'\t\n\r\u{1}\u{ffff}é/ü"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#9;&#10;&#13;\u{fffd}\u{fffd}é/ü"
        );
        assert_eq!(escaped("src/main.rs"), "src/main.rs");
    }
}
