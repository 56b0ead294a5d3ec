//! covwrap's settings, all from the environment (the user types
//! `RUSTC_WRAPPER=covwrap cargo build`; there is no other place to say more).

use std::path::PathBuf;

use covwrap_rt::format::md5::{hex, Md5};
use covwrap_rt::sources::SOURCES;

/// `COVWRAP_PKG`: comma-separated crate-name globs (`*`, `?`). A plain glob
/// adds crates to the default set (local path crates); `!glob` removes
/// crates, local ones included. `-` and `_` are the same (cargo passes crate
/// names with `_`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PkgPatterns {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl PkgPatterns {
    pub fn parse(value: &str) -> PkgPatterns {
        let mut p = PkgPatterns::default();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let normalized = |s: &str| s.replace('-', "_");
            match item.strip_prefix('!') {
                Some(neg) => p.exclude.push(normalized(neg)),
                None => p.include.push(normalized(item)),
            }
        }
        p
    }

    pub fn includes(&self, crate_name: &str) -> bool {
        self.include.iter().any(|g| glob_match(g, crate_name))
    }

    pub fn excludes(&self, crate_name: &str) -> bool {
        self.exclude.iter().any(|g| glob_match(g, crate_name))
    }
}

/// Shell-style glob with `*` (any run) and `?` (one character).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub pkg: PkgPatterns,
    /// `COVWRAP_PKG` as given, declared as an env dependency of every unit
    /// (see `depinfo`).
    pub pkg_raw: Option<String>,
    /// `COVWRAP_RUSTC_WRAPPER`: a wrapper the user already had (sccache).
    pub chain: Option<String>,
    /// `COVWRAP_LOG=1`: one line per crate saying what covwrap did and why.
    pub log: bool,
    /// Where compiled runtimes are cached: `COVWRAP_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/covwrap`, else `~/.cache/covwrap`.
    pub cache_dir: PathBuf,
}

impl Settings {
    pub fn from_env() -> Settings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let cache_dir = var("COVWRAP_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("covwrap")))
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache").join("covwrap")))
            .unwrap_or_else(|| std::env::temp_dir().join("covwrap-cache"));
        Settings {
            pkg: PkgPatterns::parse(&var("COVWRAP_PKG").unwrap_or_default()),
            pkg_raw: std::env::var("COVWRAP_PKG").ok(),
            chain: var("COVWRAP_RUSTC_WRAPPER"),
            log: var("COVWRAP_LOG").is_some_and(|v| v != "0"),
            cache_dir,
        }
    }
}

/// Hash of the runtime's embedded sources.
pub fn runtime_sources_hash() -> String {
    let mut h = Md5::new();
    for (path, text) in SOURCES {
        h.update(path.as_bytes());
        h.update(&[0]);
        h.update(text.as_bytes());
        h.update(&[0]);
    }
    hex(&h.finish()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("serde*", "serde_json"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("*json", "serde_json"));
        assert!(!glob_match("serde", "serde_json"));
        assert!(glob_match("*_*_*", "a_b_c"));
    }

    #[test]
    fn pkg_patterns_include_exclude_and_dashes() {
        let p = PkgPatterns::parse("serde-json, !my-bench ,regex*,");
        assert!(p.includes("serde_json"));
        assert!(p.includes("regex_syntax"));
        assert!(p.excludes("my_bench"));
        assert!(!p.excludes("serde_json"));
    }
}
