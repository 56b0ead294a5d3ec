//! Helpers used both by `app`'s build script (at build time) and by `app`
//! itself (at run time), so the two can check that they agree.

/// 32-bit FNV-1a: a tiny, stable hash that gives the same value wherever it runs.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    const OFFSET: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    bytes
        .iter()
        .fold(OFFSET, |hash, &b| (hash ^ u32::from(b)).wrapping_mul(PRIME))
}

/// A one-line banner such as `== app 0.1.0 ==`.
pub fn banner(name: &str, version: &str) -> String {
    if version.is_empty() {
        format!("== {} ==", name)
    } else {
        format!("== {} {} ==", name, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_known_values() {
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn banner_with_and_without_version() {
        assert_eq!(banner("app", "1.2"), "== app 1.2 ==");
        assert_eq!(banner("app", ""), "== app ==");
    }
}
