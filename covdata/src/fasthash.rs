//! A small, fast hasher for the maps covdata builds from trusted data:
//! keys that are already hashes (NameRef, FuncHash, FilenamesRef), small
//! integers and paths. std's default SipHash resists hash flooding, which
//! a report over one's own coverage data does not need, and costs several
//! times more. This is the multiply-add hash of rustc's `FxHasher`
//! (rustc-hash 2): one add and one multiply per word, and a final rotation
//! that moves the best-mixed bits to the top, where hashbrown takes its
//! control bits from.
//!
//! Only lookups use it: no output depends on the iteration order of a map
//! hashed with it.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A `HashSet` with [`FastHasher`].
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

/// rustc-hash 2's multiplier.
const K: u64 = 0xf135_7aea_2e62_a9c5;

/// See the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastHasher {
    hash: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = self.hash.wrapping_add(word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
        self.add(bytes.len() as u64);
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    fn hash<T: std::hash::Hash>(v: T) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(v)
    }

    #[test]
    fn distinguishes_keys_and_works_in_maps() {
        assert_ne!(hash(1u64), hash(2u64));
        assert_ne!(hash((1u64, 2u64)), hash((2u64, 1u64)));
        assert_ne!(hash("ab"), hash("ab\0"));
        assert_ne!(hash(""), hash("\0"));
        let mut m: FastMap<String, usize> = FastMap::default();
        for i in 0..10_000 {
            m.insert(format!("/src/file{i}.rs"), i);
        }
        for i in 0..10_000 {
            assert_eq!(m[&format!("/src/file{i}.rs")], i);
        }
        let s: FastSet<(u64, u64)> = (0..1000).map(|i| (i, i * 7)).collect();
        assert!(s.contains(&(5, 35)) && !s.contains(&(5, 36)));
    }
}
