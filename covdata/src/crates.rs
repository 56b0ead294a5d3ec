//! The crate a function belongs to, from its mangled name, and `--pkg`
//! glob matching.
//!
//! rustc forces v0 mangling (`_R...`) with `-C instrument-coverage`. The
//! crate of a function is the root (`C`) of its path: through nested paths
//! (`N`), generic instantiations (`I`), inherent and trait impls (`M`,
//! `X`: the crate of the impl's own path) and qualified trait items (`Y`:
//! the trait's crate, where the code of a default method lives), following
//! backrefs (`B`). The instantiating-crate suffix is ignored, so an
//! `#[inline]` or generic library function instantiated downstream still
//! belongs to the library. Legacy `_ZN` names use their first segment.

/// The crate of a mangled function name.
pub fn crate_of(mangled: &str) -> String {
    if let Some(sym) = mangled.strip_prefix("_R") {
        let mut p = V0 {
            sym: sym.as_bytes(),
            pos: 0,
            depth: 0,
        };
        while p.peek().is_some_and(|b| b.is_ascii_digit()) {
            p.pos += 1;
        }
        if let Some(name) = p.crate_of_path() {
            return name;
        }
    }
    let legacy = mangled.trim_start_matches('_');
    if let Some(rest) = legacy.strip_prefix("ZN") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(len) = rest[..digits].parse::<usize>() {
            if let Some(name) = digits
                .checked_add(len)
                .and_then(|end| rest.get(digits..end))
            {
                return name.to_string();
            }
        }
    }
    let demangled = format!("{:#}", rustc_demangle::demangle(mangled));
    demangled
        .split("::")
        .next()
        .unwrap_or(&demangled)
        .trim_start_matches('<')
        .to_string()
}

/// A v0 symbol (after `_R`) with a cursor. Every method returns `None` on
/// malformed input instead of panicking.
struct V0<'a> {
    sym: &'a [u8],
    pos: usize,
    depth: u32,
}

const MAX_DEPTH: u32 = 200;

impl V0<'_> {
    fn peek(&self) -> Option<u8> {
        self.sym.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// `{0-9a-zA-Z} _`: `_` alone is 0, otherwise the digits plus 1.
    fn base62(&mut self) -> Option<u64> {
        if self.eat(b'_') {
            return Some(0);
        }
        let mut x: u64 = 0;
        loop {
            let d = match self.next()? {
                b @ b'0'..=b'9' => b - b'0',
                b @ b'a'..=b'z' => b - b'a' + 10,
                b @ b'A'..=b'Z' => b - b'A' + 36,
                b'_' => return x.checked_add(1),
                _ => return None,
            };
            x = x.checked_mul(62)?.checked_add(u64::from(d))?;
        }
    }

    fn decimal(&mut self) -> Option<usize> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.sym[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }

    fn disambiguator(&mut self) -> Option<()> {
        if self.eat(b's') {
            self.base62()?;
        }
        Some(())
    }

    /// `[disambiguator] ["u"] decimal ["_"] bytes`; returns the bytes.
    fn identifier(&mut self) -> Option<&[u8]> {
        self.disambiguator()?;
        self.undisambiguated_identifier()
    }

    fn undisambiguated_identifier(&mut self) -> Option<&[u8]> {
        self.eat(b'u');
        let len = self.decimal()?;
        self.eat(b'_');
        let start = self.pos;
        let end = start.checked_add(len).filter(|e| *e <= self.sym.len())?;
        self.pos = end;
        Some(&self.sym[start..end])
    }

    /// Follows a backref: a parser at the referenced position.
    fn backref(&mut self) -> Option<Self> {
        let at = self.pos - 1;
        let target = usize::try_from(self.base62()?).ok()?;
        (target < at).then_some(V0 {
            sym: self.sym,
            pos: target,
            depth: self.depth,
        })
    }

    fn crate_of_path(&mut self) -> Option<String> {
        self.enter()?;
        match self.next()? {
            b'C' => Some(String::from_utf8_lossy(self.identifier()?).into_owned()),
            b'N' => {
                self.next()?;
                self.crate_of_path()
            }
            b'M' | b'X' => {
                self.disambiguator()?;
                self.crate_of_path()
            }
            b'Y' => {
                self.skip_type()?;
                self.crate_of_path()
            }
            b'I' => self.crate_of_path(),
            b'B' => self.backref()?.crate_of_path(),
            _ => None,
        }
    }

    fn skip_path(&mut self) -> Option<()> {
        self.enter()?;
        match self.next()? {
            b'C' => {
                self.identifier()?;
            }
            b'M' => {
                self.disambiguator()?;
                self.skip_path()?;
                self.skip_type()?;
            }
            b'X' => {
                self.disambiguator()?;
                self.skip_path()?;
                self.skip_type()?;
                self.skip_path()?;
            }
            b'Y' => {
                self.skip_type()?;
                self.skip_path()?;
            }
            b'N' => {
                self.next()?;
                self.skip_path()?;
                self.identifier()?;
            }
            b'I' => {
                self.skip_path()?;
                while !self.eat(b'E') {
                    self.skip_generic_arg()?;
                }
            }
            b'B' => {
                self.base62()?;
            }
            _ => return None,
        }
        self.depth -= 1;
        Some(())
    }

    fn skip_generic_arg(&mut self) -> Option<()> {
        if self.eat(b'L') {
            self.base62().map(|_| ())
        } else if self.eat(b'K') {
            self.skip_const()
        } else {
            self.skip_type()
        }
    }

    fn skip_type(&mut self) -> Option<()> {
        self.enter()?;
        match self.peek()? {
            b'a'..=b'z' => {
                self.pos += 1;
            }
            b'C' | b'M' | b'X' | b'Y' | b'N' | b'I' => self.skip_path()?,
            _ => match self.next()? {
                b'A' => {
                    self.skip_type()?;
                    self.skip_const()?;
                }
                b'S' | b'P' | b'O' => self.skip_type()?,
                b'T' => {
                    while !self.eat(b'E') {
                        self.skip_type()?;
                    }
                }
                b'R' | b'Q' => {
                    if self.eat(b'L') {
                        self.base62()?;
                    }
                    self.skip_type()?;
                }
                b'F' => {
                    if self.eat(b'G') {
                        self.base62()?;
                    }
                    self.eat(b'U');
                    if self.eat(b'K') && !self.eat(b'C') {
                        self.undisambiguated_identifier()?;
                    }
                    while !self.eat(b'E') {
                        self.skip_type()?;
                    }
                    self.skip_type()?;
                }
                b'D' => {
                    if self.eat(b'G') {
                        self.base62()?;
                    }
                    while !self.eat(b'E') {
                        self.skip_path()?;
                        while self.eat(b'p') {
                            self.undisambiguated_identifier()?;
                            self.skip_type()?;
                        }
                    }
                    if !self.eat(b'L') {
                        return None;
                    }
                    self.base62()?;
                }
                b'B' => {
                    self.base62()?;
                }
                _ => return None,
            },
        }
        self.depth -= 1;
        Some(())
    }

    fn skip_const(&mut self) -> Option<()> {
        self.enter()?;
        match self.next()? {
            b'p' => {}
            b'B' => {
                self.base62()?;
            }
            b'R' | b'Q' => self.skip_const()?,
            b'A' | b'T' => {
                while !self.eat(b'E') {
                    self.skip_const()?;
                }
            }
            b'V' => {
                self.skip_path()?;
                match self.next()? {
                    b'U' => {}
                    b'T' => {
                        while !self.eat(b'E') {
                            self.skip_const()?;
                        }
                    }
                    b'S' => {
                        while !self.eat(b'E') {
                            self.identifier()?;
                            self.skip_const()?;
                        }
                    }
                    _ => return None,
                }
            }
            // Integers, bool, char and str: optional sign, hex digits, `_`.
            b'a'..=b'z' => {
                self.eat(b'n');
                while self.peek()?.is_ascii_hexdigit() {
                    self.pos += 1;
                }
                if !self.eat(b'_') {
                    return None;
                }
            }
            _ => return None,
        }
        self.depth -= 1;
        Some(())
    }
}

/// Comma-separated globs with `*` (any run) and `?` (one character).
#[derive(Clone, Debug, Default)]
pub struct CrateFilter {
    globs: Vec<String>,
}

impl CrateFilter {
    /// Parses `a,b*,c?`; an empty list keeps everything.
    pub fn parse(spec: &str) -> CrateFilter {
        CrateFilter {
            globs: spec
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(String::from)
                .collect(),
        }
    }

    /// True when there is no filter.
    pub fn is_empty(&self) -> bool {
        self.globs.is_empty()
    }

    /// Whether `name` is kept.
    pub fn matches(&self, name: &str) -> bool {
        self.globs.is_empty() || self.globs.iter().any(|g| glob_match(g, name))
    }
}

/// `*` matches any run of characters, `?` exactly one.
pub fn glob_match(glob: &str, text: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v0_roots() {
        let cases = [
            ("_RNvCs32gj3y4fnmh_4main8classify", "main"),
            ("_RINvCs32gj3y4fnmh_4main4showlEB2_", "main"),
            ("_RNCNvCs32gj3y4fnmh_4main4mains0_0B3_", "main"),
            ("_RINvCs1_5mylib4pickhECs2_4main", "mylib"),
            ("_RNvCs1_5mylib3inlCs2_4main", "mylib"),
            // <mylib::Foo as core::fmt::Display>::fmt, impl in mylib.
            (
                "_RNvXs_Cs1_5mylibNtB4_3FooNtNtCs9_4core3fmt7Display3fmt",
                "mylib",
            ),
            // <Foo>::new, inherent impl in app.
            ("_RNvMCs1_3appNtB2_3Foo3new", "app"),
            // <app::Foo as dep::Trait>::provided: the trait's crate.
            ("_RNvYNtCs1_3app3FooNtCs2_3dep5Trait8provided", "dep"),
            // <[u8] as dep::Trait>::m and <(&str, fn(u8) -> u8) as ...>.
            ("_RNvYShNtCs2_3dep5Trait1m", "dep"),
            ("_RNvYTReFhEhENtCs2_3dep5Trait1m", "dep"),
            ("_RNvYINtCs1_3app3ArrKj3_ENtCs2_3dep5Trait1m", "dep"),
            // The trait path is a backref to the crate root of app.
            ("_RNvYNtCs1_3app3FooNtB4_5Trait1m", "app"),
            // Backref to the crate root.
            ("_RNvNtCs1_5outer5inner1fB2_", "outer"),
        ];
        for (name, want) in cases {
            assert_eq!(crate_of(name), want, "{name}");
        }
    }

    #[test]
    fn legacy_and_garbage() {
        assert_eq!(crate_of("_ZN5mylib3foo17h0123456789abcdefE"), "mylib");
        assert_eq!(crate_of("main"), "main");
        assert_eq!(crate_of("_RB_"), "_RB_");
        assert_eq!(crate_of("_RNvNvNv"), "_RNvNvNv");
    }

    #[test]
    fn globs() {
        assert!(glob_match("sem*", "semver"));
        assert!(glob_match("*", ""));
        assert!(glob_match("?ither", "either"));
        assert!(!glob_match("either?", "either"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        let f = CrateFilter::parse("itoa, sem*");
        assert!(f.matches("itoa") && f.matches("semver") && !f.matches("either"));
        assert!(CrateFilter::parse("").matches("anything"));
    }
}
