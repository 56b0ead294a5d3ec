//! Which source files the reports cover. By default every file except
//! test code (files only test, bench and example targets and `--test`
//! harnesses compiled, see [`crate::model::builds::test_files`]);
//! `--include-tests` keeps those too, `--include-files=GLOBS` keeps only
//! the files matching a glob (test code included), `--exclude-files=GLOBS`
//! then removes the files matching one.
//!
//! Globs are comma-separated; `*` matches within one path component, `**`
//! across components (`**/` also matches no directory), `?` one character
//! other than `/`. A glob matches a file when it matches its path relative
//! to the report root, its absolute path, or, for a glob without `/`, its
//! file name.

use regex::Regex;

/// The file selection of a report.
#[derive(Clone, Debug, Default)]
pub struct FileFilter {
    /// `--include-tests`: keep test code.
    pub include_tests: bool,
    include: Vec<Glob>,
    exclude: Vec<Glob>,
}

#[derive(Clone, Debug)]
struct Glob {
    regex: Regex,
    by_name: bool,
}

impl Glob {
    fn parse(glob: &str) -> Result<Glob, String> {
        let mut re = String::from("^");
        let chars: Vec<char> = glob.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' if chars.get(i + 1) == Some(&'*') => {
                    if chars.get(i + 2) == Some(&'/') {
                        re.push_str("(?:.*/)?");
                        i += 3;
                    } else {
                        re.push_str(".*");
                        i += 2;
                    }
                    continue;
                }
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
            i += 1;
        }
        re.push('$');
        let regex = Regex::new(&re).map_err(|e| format!("bad glob {glob:?}: {e}"))?;
        Ok(Glob {
            regex,
            by_name: !glob.contains('/'),
        })
    }

    fn matches(&self, relative: &str, absolute: &str) -> bool {
        let name = absolute.rsplit('/').next().unwrap_or(absolute);
        self.regex.is_match(relative)
            || self.regex.is_match(absolute)
            || (self.by_name && self.regex.is_match(name))
    }
}

fn parse_list(globs: &str) -> Result<Vec<Glob>, String> {
    globs
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(Glob::parse)
        .collect()
}

impl FileFilter {
    /// A filter from the flags' values (comma-separated globs, may be empty).
    pub fn new(include_tests: bool, include: &str, exclude: &str) -> Result<FileFilter, String> {
        Ok(FileFilter {
            include_tests,
            include: parse_list(include)?,
            exclude: parse_list(exclude)?,
        })
    }

    /// Whether a report covers the file at `relative` (to the report
    /// root) / `absolute`, which is test code when `is_test`.
    pub fn keeps(&self, relative: &str, absolute: &str, is_test: bool) -> bool {
        let selected = if self.include.is_empty() {
            self.include_tests || !is_test
        } else {
            self.include.iter().any(|g| g.matches(relative, absolute))
        };
        selected && !self.exclude.iter().any(|g| g.matches(relative, absolute))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let f = FileFilter::new(false, "", "**/tests/**,gen_*.rs").unwrap();
        assert!(!f.keeps("tests/cli.rs", "/w/tests/cli.rs", false));
        assert!(!f.keeps("crates/a/tests/x/y.rs", "/w/crates/a/tests/x/y.rs", false));
        assert!(!f.keeps("src/gen_tables.rs", "/w/src/gen_tables.rs", false));
        assert!(f.keeps("src/main.rs", "/w/src/main.rs", false));
        assert!(
            !f.keeps("src/tests.rs", "/w/src/tests.rs", true),
            "test code by default"
        );
        let star = FileFilter::new(false, "", "src/*.rs").unwrap();
        assert!(!star.keeps("src/a.rs", "/w/src/a.rs", false));
        assert!(
            star.keeps("src/a/b.rs", "/w/src/a/b.rs", false),
            "* stays in one directory"
        );
    }

    #[test]
    fn include_tests_and_include_files() {
        let all = FileFilter::new(true, "", "").unwrap();
        assert!(all.keeps("tests/cli.rs", "/w/tests/cli.rs", true));
        let only = FileFilter::new(false, "tests/**", "").unwrap();
        assert!(only.keeps("tests/cli.rs", "/w/tests/cli.rs", true));
        assert!(!only.keeps("src/main.rs", "/w/src/main.rs", false));
        assert!(
            FileFilter::new(false, "", "[").is_ok(),
            "brackets are literal"
        );
    }
}
