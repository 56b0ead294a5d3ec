//! The final send, at exit or from a fatal-signal handler: the counters go
//! to the center as `POST .../counters?final=1`, chunked, over a raw
//! nonblocking socket, within [`BUDGET_MS`] for connect, send and answer.
//! No allocation and no locks: everything it needs was published by the
//! agent thread ([`publish`], [`set_peer`], [`set_id`]) and is read here
//! through atomics.

use std::ffi::{c_int, c_void};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

use super::super::emit::{for_each_nonzero, START_NS};
use super::super::text::eprint_line;
use super::super::{llvm, sys};
use super::{FINISHED, RUNNING, SETUP, STATE};
use crate::format::counters::{CountersHeader, CountersWriter, Sink};
use crate::format::defs::MetaHash;

/// Total time the exit path may spend on the center.
pub const BUDGET_MS: u64 = 500;

/// What the final request needs, prepared by the agent thread.
pub struct Prepared {
    pub meta_hash: MetaHash,
    /// The encoded args table (the same as in COVDIR's files).
    pub args: Vec<u8>,
    /// `POST <prefix>/v1/agents/`: the id goes after it.
    pub before_id: String,
    /// `/counters?final=1 HTTP/1.1` and the headers.
    pub after_id: String,
}

static PREPARED: OnceLock<Prepared> = OnceLock::new();

/// The agent's id plus one; 0 until the first registration (and meta
/// upload) is done.
static ID_PLUS_ONE: AtomicU64 = AtomicU64::new(0);
/// The agent thread's first attempt to register has ended (either way).
static FIRST_TRY_OVER: AtomicBool = AtomicBool::new(false);

/// The center's address as last connected to, behind a sequence lock:
/// odd while being written. Words: family (4 or 6) << 16 | port, then the
/// 16 address bytes.
static PEER_SEQ: AtomicU32 = AtomicU32::new(0);
static PEER: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

pub fn publish(prepared: Prepared) {
    let _ = PREPARED.set(prepared);
}

pub fn set_id(id: u64) {
    ID_PLUS_ONE.store(id.wrapping_add(1), Ordering::Release);
}

pub fn first_try_over() {
    FIRST_TRY_OVER.store(true, Ordering::Release);
}

/// Only the agent thread writes the peer.
pub fn set_peer(addr: SocketAddr) {
    let (family, bytes) = match addr.ip() {
        IpAddr::V4(a) => (4u64, a.to_ipv6_mapped().octets()),
        IpAddr::V6(a) => (6u64, a.octets()),
    };
    let word =
        |r: std::ops::Range<usize>| u64::from_le_bytes(bytes[r].try_into().unwrap_or([0; 8]));
    PEER_SEQ.fetch_add(1, Ordering::AcqRel);
    PEER[0].store(family << 16 | u64::from(addr.port()), Ordering::Release);
    PEER[1].store(word(0..8), Ordering::Release);
    PEER[2].store(word(8..16), Ordering::Release);
    PEER_SEQ.fetch_add(1, Ordering::AcqRel);
}

fn peer() -> Option<(u64, u16, [u8; 16])> {
    for _ in 0..4 {
        let before = PEER_SEQ.load(Ordering::Acquire);
        if before & 1 == 1 {
            continue;
        }
        let head = PEER[0].load(Ordering::Acquire);
        let mut ip = [0u8; 16];
        ip[..8].copy_from_slice(&PEER[1].load(Ordering::Acquire).to_le_bytes());
        ip[8..].copy_from_slice(&PEER[2].load(Ordering::Acquire).to_le_bytes());
        if PEER_SEQ.load(Ordering::Acquire) == before {
            let family = head >> 16;
            return (family == 4 || family == 6).then_some((family, head as u16, ip));
        }
    }
    None
}

/// Sends the final counters once, if the agent has registered. `end` is
/// the exit or signal reason. Also stops the agent thread from sending
/// anything afterwards.
pub fn send_final(end: u32) {
    if STATE
        .compare_exchange(RUNNING, FINISHED, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return;
    }
    let deadline = monotonic_ms() + BUDGET_MS;
    // A program that ends right after it started (a CLI): its agent is
    // still registering; wait for that, within the budget, unless it has
    // already failed once (the center is down: do not wait for nothing).
    while ID_PLUS_ONE.load(Ordering::Acquire) == 0
        && !FIRST_TRY_OVER.load(Ordering::Acquire)
        && monotonic_ms() < deadline
    {
        sys::sleep_ms(1);
    }
    let (Some(prepared), Some(setup)) = (PREPARED.get(), SETUP.get()) else {
        return;
    };
    let id = ID_PLUS_ONE.load(Ordering::Acquire);
    let Some((family, port, ip)) = peer() else {
        return;
    };
    if id == 0 {
        return;
    }
    let outcome = Socket::connect(family, port, &ip, deadline)
        .and_then(|s| s.post_final(prepared, id - 1, end, deadline));
    match outcome {
        Ok(status) if (200..300).contains(&status) => {}
        Ok(status) => eprint_line(format_args!(
            "covwrap: center {} refused the final counters (HTTP {status})",
            setup.url
        )),
        Err(why) => eprint_line(format_args!(
            "covwrap: final counters not sent to center {} ({why})",
            setup.url
        )),
    }
}

const AF_INET: c_int = 2;
const AF_INET6: c_int = 10;
const SOCK_STREAM: c_int = 1;
const SOCK_NONBLOCK: c_int = 0o4000;
const SOCK_CLOEXEC: c_int = 0o2000000;
const SOL_SOCKET: c_int = 1;
const SO_ERROR: c_int = 4;
const MSG_NOSIGNAL: c_int = 0x4000;
const POLLIN: i16 = 1;
const POLLOUT: i16 = 4;
const EAGAIN: i32 = 11;
const EINPROGRESS: i32 = 115;
const CLOCK_MONOTONIC: c_int = 1;

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: i16,
    revents: i16,
}

extern "C" {
    fn socket(domain: c_int, kind: c_int, protocol: c_int) -> c_int;
    fn connect(fd: c_int, addr: *const c_void, len: u32) -> c_int;
    fn poll(fds: *mut PollFd, n: u64, timeout_ms: c_int) -> c_int;
    fn send(fd: c_int, buf: *const c_void, len: usize, flags: c_int) -> isize;
    fn recv(fd: c_int, buf: *mut c_void, len: usize, flags: c_int) -> isize;
    fn getsockopt(fd: c_int, level: c_int, name: c_int, value: *mut c_void, len: *mut u32)
        -> c_int;
}

fn monotonic_ms() -> u64 {
    let mut ts = sys::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { sys::clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// A nonblocking TCP socket, closed on drop.
struct Socket(c_int);

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: our own descriptor, closed once.
        unsafe { sys::close(self.0) };
    }
}

impl Socket {
    fn connect(
        family: u64,
        port: u16,
        ip: &[u8; 16],
        deadline: u64,
    ) -> Result<Socket, &'static str> {
        // sockaddr_in6 is the larger of the two (28 bytes).
        let mut addr = [0u8; 28];
        let (domain, len) = if family == 4 {
            addr[0..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
            addr[2..4].copy_from_slice(&port.to_be_bytes());
            addr[4..8].copy_from_slice(&ip[12..16]);
            (AF_INET, 16)
        } else {
            addr[0..2].copy_from_slice(&(AF_INET6 as u16).to_ne_bytes());
            addr[2..4].copy_from_slice(&port.to_be_bytes());
            addr[8..24].copy_from_slice(ip);
            (AF_INET6, 28)
        };
        // SAFETY: plain socket call.
        let fd = unsafe { socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err("no socket");
        }
        let s = Socket(fd);
        // SAFETY: `addr` holds a sockaddr of `len` bytes.
        if unsafe { connect(fd, addr.as_ptr().cast(), len) } != 0 {
            let e = sys::errno();
            if e != EINPROGRESS && e != sys::EINTR {
                return Err(if e == 111 {
                    "connection refused"
                } else {
                    "connect failed"
                });
            }
            s.wait(POLLOUT, deadline)?;
            let mut err: c_int = 0;
            let mut err_len = std::mem::size_of::<c_int>() as u32;
            // SAFETY: `err` is a writable int of `err_len` bytes.
            let r = unsafe {
                getsockopt(
                    fd,
                    SOL_SOCKET,
                    SO_ERROR,
                    (&mut err as *mut c_int).cast(),
                    &mut err_len,
                )
            };
            if r != 0 || err != 0 {
                return Err(if err == 111 {
                    "connection refused"
                } else {
                    "connect failed"
                });
            }
        }
        Ok(s)
    }

    /// Waits until the socket is ready for `events`, or the deadline.
    fn wait(&self, events: i16, deadline: u64) -> Result<(), &'static str> {
        loop {
            let now = monotonic_ms();
            if now >= deadline {
                return Err("timed out");
            }
            let mut p = PollFd {
                fd: self.0,
                events,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let r = unsafe { poll(&mut p, 1, (deadline - now) as c_int) };
            if r > 0 {
                return Ok(());
            }
            if r < 0 && sys::errno() != sys::EINTR {
                return Err("poll failed");
            }
        }
    }

    fn send_all(&self, mut data: &[u8], deadline: u64) -> Result<(), &'static str> {
        while !data.is_empty() {
            // SAFETY: `data` is readable for its length.
            let n = unsafe { send(self.0, data.as_ptr().cast(), data.len(), MSG_NOSIGNAL) };
            if n > 0 {
                data = &data[n as usize..];
                continue;
            }
            match sys::errno() {
                EAGAIN => self.wait(POLLOUT, deadline)?,
                sys::EINTR => {}
                _ => return Err("connection lost while sending"),
            }
        }
        Ok(())
    }

    fn post_final(
        &self,
        prepared: &Prepared,
        id: u64,
        end: u32,
        deadline: u64,
    ) -> Result<u16, &'static str> {
        let mut digits = [0u8; 20];
        self.send_all(prepared.before_id.as_bytes(), deadline)?;
        self.send_all(decimal(id, &mut digits), deadline)?;
        self.send_all(prepared.after_id.as_bytes(), deadline)?;
        let counters = super::super::state::live_counters();
        let header = CountersHeader {
            flags: 0,
            meta_hash: prepared.meta_hash,
            // SAFETY: getpid has no preconditions.
            pid: unsafe { sys::getpid() } as u64,
            start_ns: START_NS.load(Ordering::Relaxed),
            write_ns: sys::realtime_ns(),
            num_counters: counters.len() as u32,
            end,
            runs: 1,
        };
        let sink = Chunked {
            socket: self,
            deadline,
        };
        let mut w = CountersWriter::begin(sink, &header, &prepared.args)?;
        for_each_nonzero(counters, false, |i, v| w.counter(i, v))?;
        w.finish()?;
        self.send_all(b"0\r\n\r\n", deadline)?;
        self.read_status(deadline)
    }

    /// The status code of the answer's first line. The rest of the head
    /// is read too (the final answer is a bodiless 204), so closing does
    /// not reset a connection the center is still writing to.
    fn read_status(&self, deadline: u64) -> Result<u16, &'static str> {
        let mut first = [0u8; 12];
        let mut have = 0;
        let mut tail = [0u8; 4];
        let mut buf = [0u8; 256];
        let mut total = 0usize;
        loop {
            self.wait(POLLIN, deadline)?;
            // SAFETY: `buf` is writable for its length.
            let n = unsafe { recv(self.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                match sys::errno() {
                    EAGAIN | sys::EINTR => continue,
                    _ => return Err("connection lost while waiting for the answer"),
                }
            }
            let got = &buf[..n as usize];
            let take = got.len().min(first.len() - have);
            first[have..have + take].copy_from_slice(&got[..take]);
            have += take;
            for &b in got {
                tail = [tail[1], tail[2], tail[3], b];
                if &tail == b"\r\n\r\n" {
                    break;
                }
            }
            total += got.len();
            if n == 0 || &tail == b"\r\n\r\n" || total > 16 * 1024 {
                break;
            }
        }
        if have < first.len() {
            return Err("connection closed without an answer");
        }
        let code = &first[9..12];
        if !first.starts_with(b"HTTP/1.")
            || first[8] != b' '
            || !code.iter().all(u8::is_ascii_digit)
        {
            return Err("not an HTTP answer");
        }
        Ok(code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
    }
}

/// The body as HTTP chunks: one per flush of the encoder's staging buffer.
struct Chunked<'a> {
    socket: &'a Socket,
    deadline: u64,
}

impl Sink for Chunked<'_> {
    type Error = &'static str;
    fn write_all(&mut self, data: &[u8]) -> Result<(), &'static str> {
        if data.is_empty() {
            return Ok(());
        }
        let mut size = [0u8; 18];
        let mut n = 0;
        let mut shift = 60;
        let mut started = false;
        while shift >= 0 {
            let d = (data.len() >> shift) & 15;
            if d != 0 || started || shift == 0 {
                size[n] = b"0123456789abcdef"[d];
                n += 1;
                started = true;
            }
            shift -= 4;
        }
        size[n..n + 2].copy_from_slice(b"\r\n");
        self.socket.send_all(&size[..n + 2], self.deadline)?;
        self.socket.send_all(data, self.deadline)?;
        self.socket.send_all(b"\r\n", self.deadline)
    }
}

/// `n` in decimal, in `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}
