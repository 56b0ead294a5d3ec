//! Unified diffs (git's, `diff -u`'s, any context size) to the lines each
//! change adds to the new version of each file.
//!
//! - File headers: `--- OLD` / `+++ NEW`; `/dev/null` as NEW is a deleted
//!   file (nothing added), as OLD a new file. git's `a/` and `b/` prefixes
//!   are removed when both sides carry them (or the other side is
//!   `/dev/null`); a tab and what follows it (`diff -u`'s timestamps) is
//!   dropped; git's C-quoted paths (`"b/\303\244.rs"`) are unquoted.
//!   Paths that are not UTF-8 are kept lossily (U+FFFD): coverage paths
//!   are UTF-8, so such a file can only count as having no coverage data.
//! - Renames and copies need nothing special: their hunks name the new
//!   path in `+++`; a pure rename has no hunk and adds no line.
//! - Hunks: `@@ -OLD[,N] +NEW[,M] @@`; the counts, not the line prefixes,
//!   say where a hunk ends, so added text that starts with `+++` or `---`
//!   is content. `\ No newline at end of file` is skipped. Lines before the
//!   first header (a commit message, `diff --git`, `index`, mode lines) are
//!   ignored; binary changes add no lines.
//! - A file changed in several places (or listed twice) is one entry, its
//!   lines sorted and unique. Files keep the order of their first header.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// A line a change added (or modified: a modified line is removed and
/// added), with its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedLine {
    /// 1-based line in the new file.
    pub line: u32,
    /// The line's text (lossily UTF-8, without the newline).
    pub text: String,
}

/// The lines a diff adds to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedFile {
    /// The new path, as the diff names it (relative to the diff's root).
    pub path: String,
    /// Whether the path was not UTF-8 and `path` is a lossy rendering.
    pub lossy_path: bool,
    /// The added lines, sorted by line, unique.
    pub lines: Vec<AddedLine>,
}

/// Parses a unified diff. Errors name the line of the diff (1-based).
pub fn parse(diff: &[u8]) -> Result<Vec<ChangedFile>> {
    let mut files: Vec<ChangedFile> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // The file hunks add to (None: deleted, or no header yet).
    let mut target: Option<usize> = None;
    let mut saw_header = false;
    let mut old_path: Option<Vec<u8>> = None;
    let mut lines = diff.split(|&b| b == b'\n').enumerate().peekable();
    while let Some((n, raw)) = lines.next() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if let Some(rest) = line.strip_prefix(b"--- ") {
            // A file header only when `+++` follows; otherwise (outside a
            // hunk) it is noise such as a commit message separator.
            if lines.peek().is_some_and(|(_, l)| l.starts_with(b"+++ ")) {
                old_path = Some(header_path(rest).map_err(|e| at_line(n, &e))?);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix(b"+++ ") {
            let Some(old) = old_path.take() else {
                continue;
            };
            saw_header = true;
            let new = header_path(rest).map_err(|e| at_line(n, &e))?;
            target = if new == b"/dev/null" {
                None
            } else {
                let path = strip_prefix(&old, &new);
                let (path, lossy) = match String::from_utf8(path.to_vec()) {
                    Ok(s) => (s, false),
                    Err(_) => (String::from_utf8_lossy(path).into_owned(), true),
                };
                Some(*index.entry(path.clone()).or_insert_with(|| {
                    files.push(ChangedFile {
                        path,
                        lossy_path: lossy,
                        lines: Vec::new(),
                    });
                    files.len() - 1
                }))
            };
            continue;
        }
        if line.starts_with(b"@@@") {
            return Err(at_line(n, "combined diffs (@@@) are not supported"));
        }
        let Some(rest) = line.strip_prefix(b"@@ ") else {
            continue;
        };
        if !saw_header {
            return Err(at_line(n, "hunk before any ---/+++ file header"));
        }
        let (mut old_left, mut new_line, mut new_left) =
            hunk_header(rest).ok_or_else(|| at_line(n, "bad hunk header"))?;
        while old_left > 0 || new_left > 0 {
            let Some((m, raw)) = lines.next() else {
                return Err(at_line(n, "the diff ends inside this hunk"));
            };
            let body = raw.strip_suffix(b"\r").unwrap_or(raw);
            match body.first() {
                Some(b'+') => {
                    if new_left == 0 {
                        return Err(at_line(m, "more added lines than the hunk header says"));
                    }
                    if let Some(i) = target {
                        files[i].lines.push(AddedLine {
                            line: new_line,
                            text: String::from_utf8_lossy(&body[1..]).into_owned(),
                        });
                    }
                    new_line += 1;
                    new_left -= 1;
                }
                Some(b'-') => {
                    if old_left == 0 {
                        return Err(at_line(m, "more removed lines than the hunk header says"));
                    }
                    old_left -= 1;
                }
                // Context; some tools strip the space of empty context lines.
                Some(b' ') | None => {
                    if old_left == 0 || new_left == 0 {
                        return Err(at_line(m, "more context lines than the hunk header says"));
                    }
                    old_left -= 1;
                    new_line += 1;
                    new_left -= 1;
                }
                Some(b'\\') => {}
                Some(_) => return Err(at_line(m, "a hunk line must start with ' ', '+' or '-'")),
            }
        }
        // A `\ No newline at end of file` after the hunk's last line.
        if lines.peek().is_some_and(|(_, l)| l.starts_with(b"\\")) {
            lines.next();
        }
    }
    if !saw_header && diff.iter().any(|b| !b.is_ascii_whitespace()) && !looks_like_git_header(diff)
    {
        return Err(Error::corrupt(
            "not a unified diff (no ---/+++ file header)",
        ));
    }
    for f in &mut files {
        f.lines.sort_by_key(|l| l.line);
        f.lines.dedup_by_key(|l| l.line);
    }
    Ok(files)
}

/// Whether a diff without hunks is still a diff: only renames, mode
/// changes or binary files (`diff --git` headers).
fn looks_like_git_header(diff: &[u8]) -> bool {
    diff.split(|&b| b == b'\n')
        .any(|l| l.starts_with(b"diff --git "))
}

fn at_line(n: usize, what: &str) -> Error {
    Error::corrupt(format!("line {}: {what}", n + 1))
}

/// The path of a `---`/`+++` header: unquoted, without a tab suffix.
fn header_path(rest: &[u8]) -> std::result::Result<Vec<u8>, String> {
    if rest.first() == Some(&b'"') {
        return unquote(rest).ok_or_else(|| "bad quoted path".to_string());
    }
    let end = rest.iter().position(|&b| b == b'\t').unwrap_or(rest.len());
    let path = &rest[..end];
    // git appends nothing, but `diff -u` without timestamps and some tools
    // leave trailing spaces.
    let trimmed = path.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    if trimmed == 0 {
        return Err("empty path".to_string());
    }
    Ok(path[..trimmed].to_vec())
}

/// git's C-style quoting: `"..."` with `\\ \" \a \b \t \n \v \f \r` and
/// three-digit octal escapes (bytes of a UTF-8 or other path).
fn unquote(quoted: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < quoted.len() {
        match quoted[i] {
            b'"' => return Some(out),
            b'\\' => {
                let c = *quoted.get(i + 1)?;
                let byte = match c {
                    b'\\' => b'\\',
                    b'"' => b'"',
                    b'a' => 7,
                    b'b' => 8,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'v' => 11,
                    b'f' => 12,
                    b'r' => b'\r',
                    b'0'..=b'3' => {
                        let digits = quoted.get(i + 1..i + 4)?;
                        if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                            return None;
                        }
                        i += 2;
                        digits.iter().fold(0u8, |v, d| v * 8 + (d - b'0'))
                    }
                    _ => return None,
                };
                out.push(byte);
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// Drops git's `a/` and `b/` prefixes when the headers have them.
fn strip_prefix<'p>(old: &[u8], new: &'p [u8]) -> &'p [u8] {
    let old_ok = old == b"/dev/null" || old.starts_with(b"a/");
    match new.strip_prefix(b"b/") {
        Some(rest) if old_ok && !rest.is_empty() => rest,
        _ => new,
    }
}

/// `-OLD[,N] +NEW[,M] @@...` → (N, NEW, M).
fn hunk_header(rest: &[u8]) -> Option<(u32, u32, u32)> {
    let text = std::str::from_utf8(rest).ok()?;
    let mut parts = text.split(' ');
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    if !parts.next()?.starts_with("@@") {
        return None;
    }
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (_, old_len) = range(old)?;
    let (new_start, new_len) = range(new)?;
    Some((old_len, new_start, new_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(f: &ChangedFile) -> Vec<u32> {
        f.lines.iter().map(|l| l.line).collect()
    }

    #[test]
    fn git_diff_u0_with_modified_added_new_deleted_and_renamed_files() {
        let diff = b"diff --git a/src/lib.rs b/src/lib.rs
index 1111111..2222222 100644
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3 +3,2 @@ fn a() {
-    old();
+    new();
+    more();
@@ -10,2 +11,0 @@ fn b() {
-    gone();
-    gone();
@@ -20,0 +20 @@
+--- not a header
diff --git a/new.rs b/new.rs
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.rs
@@ -0,0 +1,2 @@
+fn x() {}
+fn y() {}
\\ No newline at end of file
diff --git a/old.rs b/old.rs
deleted file mode 100644
--- a/old.rs
+++ /dev/null
@@ -1,2 +0,0 @@
-fn x() {}
-fn y() {}
diff --git a/from.rs b/to.rs
similarity index 90%
rename from from.rs
rename to to.rs
--- a/from.rs
+++ b/to.rs
@@ -5 +5 @@
-a
+b
diff --git a/pure.rs b/moved.rs
similarity index 100%
rename from pure.rs
rename to moved.rs
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
";
        let files = parse(diff).unwrap();
        let summary: Vec<(&str, Vec<u32>)> =
            files.iter().map(|f| (f.path.as_str(), lines(f))).collect();
        assert_eq!(
            summary,
            [
                ("src/lib.rs", vec![3, 4, 20]),
                ("new.rs", vec![1, 2]),
                ("to.rs", vec![5]),
            ]
        );
        assert_eq!(files[0].lines[2].text, "--- not a header");
        assert_eq!(files[1].lines[1].text, "fn y() {}");
    }

    #[test]
    fn context_diffs_without_prefixes_timestamps_crlf_and_repeats() {
        let diff = b"--- lib.rs\t2024-01-01 10:00:00
+++ lib.rs\t2024-01-02 10:00:00
@@ -1,4 +1,5 @@
 keep
-drop
+add1\r
+add2

 keep
@@ -9 +10 @@
-x
+y
--- lib.rs
+++ lib.rs
@@ -30,0 +31 @@
+z
";
        let files = parse(diff).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "lib.rs");
        assert_eq!(lines(&files[0]), [2, 3, 10, 31]);
        assert_eq!(files[0].lines[0].text, "add1");
    }

    #[test]
    fn quoted_and_non_utf8_paths() {
        let diff = b"--- \"a/\\303\\244 \\\"q\\\".rs\"
+++ \"b/\\303\\244 \\\"q\\\".rs\"
@@ -0,0 +1 @@
+x
--- a/\xff.rs
+++ b/\xff.rs
@@ -0,0 +1 @@
+y
";
        let files = parse(diff).unwrap();
        assert_eq!(files[0].path, "\u{e4} \"q\".rs");
        assert!(!files[0].lossy_path);
        assert_eq!(files[1].path, "\u{fffd}.rs");
        assert!(files[1].lossy_path);
    }

    #[test]
    fn bad_input_is_an_error_naming_the_line() {
        let err = |d: &[u8]| parse(d).unwrap_err().to_string();
        assert_eq!(
            err(b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n+a\n+b\n"),
            "line 5: more added lines than the hunk header says"
        );
        assert_eq!(
            err(b"--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n"),
            "line 3: the diff ends inside this hunk"
        );
        assert_eq!(
            err(b"--- a/x\n+++ b/x\n@@ nonsense @@\n"),
            "line 3: bad hunk header"
        );
        assert_eq!(
            err(b"@@ -1 +1 @@\n-a\n+b\n"),
            "line 1: hunk before any ---/+++ file header"
        );
        assert_eq!(
            err(b"hello world\n"),
            "not a unified diff (no ---/+++ file header)"
        );
        assert_eq!(
            err(b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n*a\n+b\n"),
            "line 4: a hunk line must start with ' ', '+' or '-'"
        );
        assert_eq!(
            err(b"diff --cc x\n--- a/x\n+++ b/x\n@@@ -1 -1 +1 @@@\n"),
            "line 4: combined diffs (@@@) are not supported"
        );
        // Empty diffs and hunk-less git diffs are fine: nothing changed.
        assert_eq!(parse(b"").unwrap(), []);
        assert_eq!(parse(b"\n").unwrap(), []);
        assert_eq!(
            parse(b"diff --git a/x b/y\nsimilarity index 100%\nrename from x\nrename to y\n")
                .unwrap(),
            []
        );
    }
}
