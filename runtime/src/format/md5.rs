//! MD5 (RFC 1321). covwrap uses it as a content address for meta files, and
//! covdata uses it for LLVM's NameRef (`MD5(name)`, low 8 bytes, LE).
//! Neither use needs collision resistance against an attacker.

/// The initial state (A, B, C, D).
const INIT: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/// Streaming MD5 state.
#[derive(Clone, Debug)]
pub struct Md5 {
    state: [u32; 4],
    buf: [u8; 64],
    buf_len: usize,
    total_len: u64,
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    /// A fresh state.
    pub const fn new() -> Self {
        Md5 {
            state: INIT,
            buf: [0; 64],
            buf_len: 0,
            total_len: 0,
        }
    }

    /// Feeds `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total_len = self.total_len.wrapping_add(data.len() as u64);
        if self.buf_len > 0 {
            let take = (64 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < 64 {
                return;
            }
            compress(&mut self.state, &self.buf);
            self.buf_len = 0;
        }
        let rest = compress_blocks(&mut self.state, data);
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// The 16-byte digest.
    pub fn finish(mut self) -> [u8; 16] {
        finish_tail(&mut self.state, &self.buf[..self.buf_len], self.total_len)
    }
}

/// Compresses every whole 64-byte block of `data` into `state`; returns
/// the bytes left over (fewer than 64).
fn compress_blocks<'a>(state: &mut [u32; 4], data: &'a [u8]) -> &'a [u8] {
    let mut chunks = data.chunks_exact(64);
    for block in &mut chunks {
        compress(state, block.try_into().expect("64-byte chunk"));
    }
    chunks.remainder()
}

/// Pads the last `tail` bytes (fewer than 64) of a message of `total_len`
/// bytes, compresses the one or two final blocks and returns the digest.
fn finish_tail(state: &mut [u32; 4], tail: &[u8], total_len: u64) -> [u8; 16] {
    debug_assert!(tail.len() < 64);
    let mut last = [0u8; 128];
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()] = 0x80;
    let end = if tail.len() < 56 { 64 } else { 128 };
    last[end - 8..end].copy_from_slice(&total_len.wrapping_mul(8).to_le_bytes());
    compress(state, last[..64].try_into().expect("64 bytes"));
    if end == 128 {
        compress(state, last[64..].try_into().expect("64 bytes"));
    }
    let mut out = [0u8; 16];
    for (i, word) in state.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// One MD5 step: `a = b + ((a + f(b, c, d) + m + k) <<< s)`.
macro_rules! step {
    ($f:ident, $a:ident, $b:ident, $c:ident, $d:ident, $m:expr, $k:expr, $s:expr) => {
        $a = $b.wrapping_add(
            $a.wrapping_add($f($b, $c, $d))
                .wrapping_add($m)
                .wrapping_add($k)
                .rotate_left($s),
        );
    };
}

#[inline(always)]
fn f(b: u32, c: u32, d: u32) -> u32 {
    // (b & c) | (!b & d), one operation fewer.
    d ^ (b & (c ^ d))
}

#[inline(always)]
fn g(b: u32, c: u32, d: u32) -> u32 {
    // (b & d) | (c & !d), one operation fewer.
    c ^ (d & (b ^ c))
}

#[inline(always)]
fn h(b: u32, c: u32, d: u32) -> u32 {
    b ^ c ^ d
}

#[inline(always)]
fn i(b: u32, c: u32, d: u32) -> u32 {
    c ^ (b | !d)
}

/// The 64 steps' additive constants (RFC 1321's T).
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// The rotation of each step, by round and step within the round.
const SHIFTS: [[u32; 4]; 4] = [
    [7, 12, 17, 22],
    [5, 9, 14, 20],
    [4, 11, 16, 23],
    [6, 10, 15, 21],
];

/// A block's sixteen little-endian words.
#[inline(always)]
fn words(block: &[u8; 64]) -> [u32; 16] {
    std::array::from_fn(|k| {
        u32::from_le_bytes([
            block[k * 4],
            block[k * 4 + 1],
            block[k * 4 + 2],
            block[k * 4 + 3],
        ])
    })
}

/// The MD5 compression function on one block, its 64 steps written out
/// (RFC 1321, section 3.4): constant indices into the tables and the
/// message, which the compiler folds.
#[inline]
fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let m = words(block);
    let [mut a, mut b, mut c, mut d] = *state;

    step!(f, a, b, c, d, m[0], K[0], SHIFTS[0][0]);
    step!(f, d, a, b, c, m[1], K[1], SHIFTS[0][1]);
    step!(f, c, d, a, b, m[2], K[2], SHIFTS[0][2]);
    step!(f, b, c, d, a, m[3], K[3], SHIFTS[0][3]);
    step!(f, a, b, c, d, m[4], K[4], SHIFTS[0][0]);
    step!(f, d, a, b, c, m[5], K[5], SHIFTS[0][1]);
    step!(f, c, d, a, b, m[6], K[6], SHIFTS[0][2]);
    step!(f, b, c, d, a, m[7], K[7], SHIFTS[0][3]);
    step!(f, a, b, c, d, m[8], K[8], SHIFTS[0][0]);
    step!(f, d, a, b, c, m[9], K[9], SHIFTS[0][1]);
    step!(f, c, d, a, b, m[10], K[10], SHIFTS[0][2]);
    step!(f, b, c, d, a, m[11], K[11], SHIFTS[0][3]);
    step!(f, a, b, c, d, m[12], K[12], SHIFTS[0][0]);
    step!(f, d, a, b, c, m[13], K[13], SHIFTS[0][1]);
    step!(f, c, d, a, b, m[14], K[14], SHIFTS[0][2]);
    step!(f, b, c, d, a, m[15], K[15], SHIFTS[0][3]);

    step!(g, a, b, c, d, m[1], K[16], SHIFTS[1][0]);
    step!(g, d, a, b, c, m[6], K[17], SHIFTS[1][1]);
    step!(g, c, d, a, b, m[11], K[18], SHIFTS[1][2]);
    step!(g, b, c, d, a, m[0], K[19], SHIFTS[1][3]);
    step!(g, a, b, c, d, m[5], K[20], SHIFTS[1][0]);
    step!(g, d, a, b, c, m[10], K[21], SHIFTS[1][1]);
    step!(g, c, d, a, b, m[15], K[22], SHIFTS[1][2]);
    step!(g, b, c, d, a, m[4], K[23], SHIFTS[1][3]);
    step!(g, a, b, c, d, m[9], K[24], SHIFTS[1][0]);
    step!(g, d, a, b, c, m[14], K[25], SHIFTS[1][1]);
    step!(g, c, d, a, b, m[3], K[26], SHIFTS[1][2]);
    step!(g, b, c, d, a, m[8], K[27], SHIFTS[1][3]);
    step!(g, a, b, c, d, m[13], K[28], SHIFTS[1][0]);
    step!(g, d, a, b, c, m[2], K[29], SHIFTS[1][1]);
    step!(g, c, d, a, b, m[7], K[30], SHIFTS[1][2]);
    step!(g, b, c, d, a, m[12], K[31], SHIFTS[1][3]);

    step!(h, a, b, c, d, m[5], K[32], SHIFTS[2][0]);
    step!(h, d, a, b, c, m[8], K[33], SHIFTS[2][1]);
    step!(h, c, d, a, b, m[11], K[34], SHIFTS[2][2]);
    step!(h, b, c, d, a, m[14], K[35], SHIFTS[2][3]);
    step!(h, a, b, c, d, m[1], K[36], SHIFTS[2][0]);
    step!(h, d, a, b, c, m[4], K[37], SHIFTS[2][1]);
    step!(h, c, d, a, b, m[7], K[38], SHIFTS[2][2]);
    step!(h, b, c, d, a, m[10], K[39], SHIFTS[2][3]);
    step!(h, a, b, c, d, m[13], K[40], SHIFTS[2][0]);
    step!(h, d, a, b, c, m[0], K[41], SHIFTS[2][1]);
    step!(h, c, d, a, b, m[3], K[42], SHIFTS[2][2]);
    step!(h, b, c, d, a, m[6], K[43], SHIFTS[2][3]);
    step!(h, a, b, c, d, m[9], K[44], SHIFTS[2][0]);
    step!(h, d, a, b, c, m[12], K[45], SHIFTS[2][1]);
    step!(h, c, d, a, b, m[15], K[46], SHIFTS[2][2]);
    step!(h, b, c, d, a, m[2], K[47], SHIFTS[2][3]);

    step!(i, a, b, c, d, m[0], K[48], SHIFTS[3][0]);
    step!(i, d, a, b, c, m[7], K[49], SHIFTS[3][1]);
    step!(i, c, d, a, b, m[14], K[50], SHIFTS[3][2]);
    step!(i, b, c, d, a, m[5], K[51], SHIFTS[3][3]);
    step!(i, a, b, c, d, m[12], K[52], SHIFTS[3][0]);
    step!(i, d, a, b, c, m[3], K[53], SHIFTS[3][1]);
    step!(i, c, d, a, b, m[10], K[54], SHIFTS[3][2]);
    step!(i, b, c, d, a, m[1], K[55], SHIFTS[3][3]);
    step!(i, a, b, c, d, m[8], K[56], SHIFTS[3][0]);
    step!(i, d, a, b, c, m[15], K[57], SHIFTS[3][1]);
    step!(i, c, d, a, b, m[6], K[58], SHIFTS[3][2]);
    step!(i, b, c, d, a, m[13], K[59], SHIFTS[3][3]);
    step!(i, a, b, c, d, m[4], K[60], SHIFTS[3][0]);
    step!(i, d, a, b, c, m[11], K[61], SHIFTS[3][1]);
    step!(i, c, d, a, b, m[2], K[62], SHIFTS[3][2]);
    step!(i, b, c, d, a, m[9], K[63], SHIFTS[3][3]);

    state[0] = state[0].wrapping_add(a);
    state[1] = state[1].wrapping_add(b);
    state[2] = state[2].wrapping_add(c);
    state[3] = state[3].wrapping_add(d);
}

/// MD5 of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    let mut state = INIT;
    let rest = compress_blocks(&mut state, data);
    finish_tail(&mut state, rest, data.len() as u64)
}

/// LLVM's `MD5Hash`: the low 8 bytes of the digest as a little-endian u64.
/// This is how NameRef is computed from a function's mangled name.
pub fn md5_u64(data: &[u8]) -> u64 {
    let d = md5(data);
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Messages hashed side by side by [`md5_u64_many`].
#[cfg(not(covwrap_embedded))]
const LANES: usize = 16;

/// One 32-bit word per lane.
#[cfg(not(covwrap_embedded))]
type Lanes = [u32; LANES];

/// [`md5_u64`] of every message, in order. Messages are sorted by their
/// number of blocks and hashed sixteen at a time, one per lane, in plain
/// loops over the lanes that the compiler turns into vector code: MD5's
/// steps depend on each other, so one message at a time leaves most of a
/// CPU idle, and a binary's names section holds tens of thousands of
/// short names. (covdata's; not in the embedded runtime.)
#[cfg(not(covwrap_embedded))]
pub fn md5_u64_many(messages: &[&[u8]]) -> Vec<u64> {
    let blocks = |m: &[u8]| (m.len() + 8) / 64 + 1;
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_unstable_by_key(|&i| blocks(messages[i]));
    let mut out = vec![0u64; messages.len()];
    let mut block = [0u8; 64];
    for batch in order.chunks(LANES) {
        let lane_blocks: [usize; LANES] =
            std::array::from_fn(|l| batch.get(l).map_or(0, |&i| blocks(messages[i])));
        let mut state: [Lanes; 4] = std::array::from_fn(|w| [INIT[w]; LANES]);
        let mut m = [[0u32; LANES]; 16];
        for b in 0..lane_blocks.iter().copied().max().unwrap_or(0) {
            for (l, &i) in batch.iter().enumerate() {
                padded_block(messages[i], b, &mut block);
                for (word, w) in m.iter_mut().zip(words(&block)) {
                    word[l] = w;
                }
            }
            let next = compress_lanes(&state, &m);
            // A lane whose message has no block `b` keeps its digest.
            for (l, &n) in lane_blocks.iter().enumerate() {
                if b < n {
                    for w in 0..4 {
                        state[w][l] = next[w][l];
                    }
                }
            }
        }
        for (l, &i) in batch.iter().enumerate() {
            out[i] = u64::from(state[0][l]) | u64::from(state[1][l]) << 32;
        }
    }
    out
}

/// Block `b` of `message` padded as MD5 pads it (0x80, zeros, the bit
/// length), into `out`.
#[cfg(not(covwrap_embedded))]
fn padded_block(message: &[u8], b: usize, out: &mut [u8; 64]) {
    let from = b * 64;
    if let Some(whole) = message.get(from..from + 64) {
        out.copy_from_slice(whole);
        return;
    }
    out.fill(0);
    let tail = message.get(from..).unwrap_or(&[]);
    out[..tail.len()].copy_from_slice(tail);
    // The 0x80 goes right after the message: in this block, unless the
    // message ended in an earlier one.
    if from <= message.len() {
        out[tail.len()] = 0x80;
    }
    // The length goes into the last 8 bytes of the final block.
    if (message.len() + 8) / 64 == b {
        out[56..].copy_from_slice(&(message.len() as u64).wrapping_mul(8).to_le_bytes());
    }
}

/// One round of [`compress_lanes`]: its 16 steps, each on every lane.
#[cfg(not(covwrap_embedded))]
macro_rules! lanes_round {
    ($fun:ident, $round:expr, $word:expr, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident) => {
        for j in 0..16 {
            let step = $round * 16 + j;
            let word: usize = $word(step);
            let shift = SHIFTS[$round][j % 4];
            for l in 0..LANES {
                let rotated = $a[l]
                    .wrapping_add($fun($b[l], $c[l], $d[l]))
                    .wrapping_add(K[step])
                    .wrapping_add($m[word][l])
                    .rotate_left(shift);
                $a[l] = $d[l];
                $d[l] = $c[l];
                $c[l] = $b[l];
                $b[l] = $b[l].wrapping_add(rotated);
            }
        }
    };
}

/// The compression function on one block per lane; returns the new state.
#[cfg(not(covwrap_embedded))]
#[inline]
fn compress_lanes(state: &[Lanes; 4], m: &[Lanes; 16]) -> [Lanes; 4] {
    let [mut a, mut b, mut c, mut d] = *state;
    lanes_round!(f, 0, |s| s, a, b, c, d, m);
    lanes_round!(g, 1, |s| (5 * s + 1) % 16, a, b, c, d, m);
    lanes_round!(h, 2, |s| (3 * s + 5) % 16, a, b, c, d, m);
    lanes_round!(i, 3, |s| (7 * s) % 16, a, b, c, d, m);
    let new = [a, b, c, d];
    std::array::from_fn(|w| std::array::from_fn(|l| state[w][l].wrapping_add(new[w][l])))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1321_vectors() {
        let cases: [(&str, &str); 7] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(&md5(input.as_bytes())), want, "md5({input:?})");
        }
    }

    #[test]
    fn streaming_matches_one_shot() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for split in [0, 1, 55, 56, 63, 64, 65, 127, 500, 999] {
            let mut h = Md5::new();
            h.update(&data[..split]);
            h.update(&data[split..]);
            assert_eq!(h.finish(), md5(&data), "split at {split}");
        }
    }

    /// RFC 1321's compression as a loop over the 64 steps, with the
    /// round function, rotation and message index looked up per step: a
    /// reference for the unrolled one.
    fn reference_md5(data: &[u8]) -> [u8; 16] {
        const S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
        let k: Vec<u32> = (0..64)
            .map(|i| ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32)
            .collect();
        let mut msg = data.to_vec();
        msg.push(0x80);
        while msg.len() % 64 != 56 {
            msg.push(0);
        }
        msg.extend_from_slice(&(data.len() as u64).wrapping_mul(8).to_le_bytes());
        let mut state = INIT;
        for block in msg.chunks(64) {
            let m: Vec<u32> = block
                .chunks(4)
                .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
                .collect();
            let [mut a, mut b, mut c, mut d] = state;
            for i in 0..64 {
                let (f, g) = match i / 16 {
                    0 => ((b & c) | (!b & d), i),
                    1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                    2 => (b ^ c ^ d, (3 * i + 5) % 16),
                    _ => (c ^ (b | !d), (7 * i) % 16),
                };
                let rotated = a
                    .wrapping_add(f)
                    .wrapping_add(k[i])
                    .wrapping_add(m[g])
                    .rotate_left(S[i / 16 * 4 + i % 4]);
                a = d;
                d = c;
                c = b;
                b = b.wrapping_add(rotated);
            }
            for (s, v) in state.iter_mut().zip([a, b, c, d]) {
                *s = s.wrapping_add(v);
            }
        }
        let mut out = [0u8; 16];
        for (i, word) in state.iter().enumerate() {
            out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    #[test]
    fn matches_reference_at_every_length() {
        let data: Vec<u8> = (0..600u32).map(|i| (i * 131 % 256) as u8).collect();
        for len in 0..data.len() {
            let want = reference_md5(&data[..len]);
            assert_eq!(md5(&data[..len]), want, "one shot, {len} bytes");
            let mut h = Md5::new();
            for piece in data[..len].chunks(1 + len % 70) {
                h.update(piece);
            }
            assert_eq!(h.finish(), want, "streamed, {len} bytes");
        }
    }

    #[test]
    fn many_at_once_match_one_at_a_time() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i * 131 % 251) as u8).collect();
        // Every length around the block and padding edges, in an order that
        // is not sorted, a count that is not a multiple of the lanes, and
        // a few long ones among short ones.
        let mut messages: Vec<&[u8]> = (0..200).rev().map(|n| &data[..n]).collect();
        messages.extend([&data[..], &data[3..1000], b"", &data[7..8]]);
        let want: Vec<u64> = messages.iter().map(|m| md5_u64(m)).collect();
        assert_eq!(md5_u64_many(&messages), want);
        assert_eq!(md5_u64_many(&messages[..5]), want[..5]);
        assert!(md5_u64_many(&[]).is_empty());
    }

    #[test]
    fn llvm_name_ref() {
        // From LLVM's coverage mapping of a rustc 1.95 binary.
        assert_eq!(
            md5_u64(b"_RNvCs32gj3y4fnmh_4main8classify"),
            0x4ba6_99ee_8375_33fc
        );
    }
}
