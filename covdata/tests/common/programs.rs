//! Program texts more than one test compiles, and what they must produce.

use std::path::Path;

/// An `#[inline]` function `a::inl` called from two modules that stay in
/// different codegen units under `-C opt-level=1 -C codegen-units=4`
/// (each then has its own copy of `inl`, with its own counters: duplicate
/// data records of one function). Callers add their own `main`, after this
/// text so that its line numbers hold (`x * 2` is line 5).
pub const INLINE_COPY_MODULES: &str = r#"mod a {
    #[inline]
    pub fn inl(x: u32) -> u32 {
        if x > 1 {
            x * 2
        } else {
            x
        }
    }
}

mod b {
    #[inline(never)]
    pub fn use_b(x: u32) -> u32 {
        let v: Vec<u32> = (0..x).map(|i| i * 3).collect();
        crate::a::inl(x) + v.iter().sum::<u32>() + 1
    }
}

mod c {
    #[inline(never)]
    pub fn use_c(x: u32) -> u32 {
        let s: String = (0..x).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        crate::a::inl(x + 1) + s.len() as u32 + 2
    }
}

"#;

/// The scenario must really have copies: some function has several data
/// records (same name and hash) in the pod of `dir`.
pub fn assert_has_duplicate_records(dir: &Path) {
    let pod = covdata::load(&[dir.to_path_buf()], Default::default())
        .unwrap()
        .pods
        .remove(0);
    let mut keys: Vec<_> = pod
        .funcs
        .iter()
        .map(|e| (e.name_ref, e.func_hash))
        .collect();
    let n = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert!(
        keys.len() < n,
        "no duplicate data records: the test proves nothing"
    );
}
