//! A small, strict HTTP/1.1 client: one request per connection
//! (`Connection: close`), `Content-Length` or chunked answers, every read
//! under a deadline and every answer under a size bound.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Longest status line plus headers we read.
const MAX_HEAD: usize = 16 * 1024;

/// One request.
pub struct Request<'a> {
    pub method: &'a str,
    /// Path and query, already prefixed, e.g. `/v1/agents/3/command?wait=20`.
    pub target: &'a str,
    /// The `Host` header.
    pub host: &'a str,
    /// Sent as `Authorization: Bearer <token>` when set.
    pub token: Option<&'a str>,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

/// An answer: status and the whole (de-chunked) body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The body's first line, for messages (the center's errors are one
    /// line of text).
    pub fn reason(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let line = text.lines().next().unwrap_or("").trim();
        line.chars().take(200).collect()
    }
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum HttpError {
    /// No connection to any address.
    Connect(io::Error),
    /// The connection broke, or the deadline passed.
    Io(io::Error),
    /// The peer does not speak HTTP as we read it.
    Malformed(&'static str),
    /// The answer is over the size bound.
    TooLarge,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Connect(e) => write!(f, "connect: {}", short_io(e)),
            HttpError::Io(e) => write!(f, "{}", short_io(e)),
            HttpError::Malformed(what) => write!(f, "malformed answer: {what}"),
            HttpError::TooLarge => f.write_str("answer too large"),
        }
    }
}

fn short_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "timed out".into(),
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        io::ErrorKind::UnexpectedEof => "connection closed early".into(),
        _ => e.to_string(),
    }
}

/// Connects to the first address of `addrs` that answers.
pub fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, HttpError> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(HttpError::Connect(last))
}

/// Sends `req` on `stream` and reads the answer, all before `deadline`,
/// refusing bodies over `max_body` bytes.
pub fn exchange(
    stream: &mut TcpStream,
    req: &Request<'_>,
    deadline: Instant,
    max_body: usize,
) -> Result<Response, HttpError> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: covwrap-agent/{}\r\nConnection: close\r\nContent-Length: {}\r\n",
        req.method,
        req.target,
        req.host,
        crate::VERSION,
        req.body.len()
    );
    if !req.body.is_empty() {
        head.push_str("Content-Type: ");
        head.push_str(req.content_type);
        head.push_str("\r\n");
    }
    if let Some(token) = req.token {
        head.push_str("Authorization: Bearer ");
        head.push_str(token);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    set_timeouts(stream, deadline).map_err(HttpError::Io)?;
    stream.write_all(head.as_bytes()).map_err(HttpError::Io)?;
    // Large bodies in slices, so the deadline is checked between them.
    for part in req.body.chunks(256 * 1024) {
        set_timeouts(stream, deadline).map_err(HttpError::Io)?;
        stream.write_all(part).map_err(HttpError::Io)?;
    }
    let _ = stream.flush();
    read_response(stream, deadline, max_body, req.method == "HEAD")
}

fn set_timeouts(stream: &TcpStream, deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::ErrorKind::TimedOut.into());
    }
    stream.set_read_timeout(Some(left))?;
    stream.set_write_timeout(Some(left))
}

/// Buffered reading from the connection under the deadline.
struct Reader<'a, R: Read> {
    inner: &'a mut R,
    buf: Vec<u8>,
    pos: usize,
    deadline: Instant,
    set_timeout: &'a dyn Fn(&R, Instant) -> io::Result<()>,
}

impl<R: Read> Reader<'_, R> {
    /// Reads more; false at end of stream.
    fn fill(&mut self) -> Result<bool, HttpError> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        (self.set_timeout)(self.inner, self.deadline).map_err(HttpError::Io)?;
        let mut chunk = [0u8; 8192];
        loop {
            match self.inner.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(HttpError::Io(e)),
            }
        }
    }

    /// One CRLF-terminated line (without the CRLF), at most `max` bytes.
    fn line(&mut self, max: usize) -> Result<Vec<u8>, HttpError> {
        loop {
            if let Some(i) = self.buf[self.pos..].windows(2).position(|w| w == b"\r\n") {
                if i > max {
                    return Err(HttpError::Malformed("line too long"));
                }
                let line = self.buf[self.pos..self.pos + i].to_vec();
                self.pos += i + 2;
                return Ok(line);
            }
            if self.buf.len() - self.pos > max + 1 {
                return Err(HttpError::Malformed("line too long"));
            }
            if !self.fill()? {
                return Err(HttpError::Malformed(
                    "connection closed in the middle of a line",
                ));
            }
        }
    }

    /// Exactly `n` bytes appended to `out`.
    fn exact(&mut self, mut n: usize, out: &mut Vec<u8>) -> Result<(), HttpError> {
        while n > 0 {
            if self.pos == self.buf.len() && !self.fill()? {
                return Err(HttpError::Malformed(
                    "connection closed before the end of the body",
                ));
            }
            let take = n.min(self.buf.len() - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            n -= take;
        }
        Ok(())
    }
}

fn read_response(
    stream: &mut TcpStream,
    deadline: Instant,
    max_body: usize,
    head_request: bool,
) -> Result<Response, HttpError> {
    let set = |s: &TcpStream, d: Instant| set_timeouts(s, d);
    let mut r = Reader {
        inner: stream,
        buf: Vec::new(),
        pos: 0,
        deadline,
        set_timeout: &set,
    };
    read_from(&mut r, max_body, head_request)
}

fn read_from<R: Read>(
    r: &mut Reader<'_, R>,
    max_body: usize,
    head_request: bool,
) -> Result<Response, HttpError> {
    // Interim 1xx answers come before the real one.
    let (status, framing) = loop {
        let (status, framing) = read_head(r)?;
        if !(100..200).contains(&status) {
            break (status, framing);
        }
    };
    let mut body = Vec::new();
    if head_request || status == 204 || status == 304 {
        return Ok(Response { status, body });
    }
    match framing {
        Framing::Length(n) => {
            if n > max_body as u64 {
                return Err(HttpError::TooLarge);
            }
            r.exact(n as usize, &mut body)?;
        }
        Framing::Chunked => loop {
            let line = r.line(64)?;
            let size_text = line.split(|&b| b == b';').next().unwrap_or(&[]);
            let size_text = std::str::from_utf8(size_text)
                .map_err(|_| HttpError::Malformed("bad chunk size"))?
                .trim_end_matches([' ', '\t']);
            if size_text.is_empty()
                || size_text.len() > 15
                || !size_text.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(HttpError::Malformed("bad chunk size"));
            }
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| HttpError::Malformed("bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                let mut trailer_bytes = 0;
                loop {
                    let t = r.line(MAX_HEAD)?;
                    if t.is_empty() {
                        break;
                    }
                    trailer_bytes += t.len();
                    if trailer_bytes > MAX_HEAD {
                        return Err(HttpError::Malformed("trailers too long"));
                    }
                }
                break;
            }
            if body.len() + size > max_body {
                return Err(HttpError::TooLarge);
            }
            r.exact(size, &mut body)?;
            let mut crlf = Vec::with_capacity(2);
            r.exact(2, &mut crlf)?;
            if crlf != b"\r\n" {
                return Err(HttpError::Malformed("chunk longer than its size"));
            }
        },
        Framing::UntilClose => loop {
            body.extend_from_slice(&r.buf[r.pos..]);
            r.pos = r.buf.len();
            if body.len() > max_body {
                return Err(HttpError::TooLarge);
            }
            if !r.fill()? {
                break;
            }
        },
    }
    Ok(Response { status, body })
}

enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

fn read_head<R: Read>(r: &mut Reader<'_, R>) -> Result<(u16, Framing), HttpError> {
    let status_line = r.line(1024)?;
    let status = parse_status_line(&status_line)?;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut head_bytes = status_line.len();
    loop {
        let line = r.line(MAX_HEAD)?;
        if line.is_empty() {
            break;
        }
        head_bytes += line.len() + 2;
        if head_bytes > MAX_HEAD {
            return Err(HttpError::Malformed("headers too long"));
        }
        if line[0] == b' ' || line[0] == b'\t' {
            return Err(HttpError::Malformed("folded header line"));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(HttpError::Malformed("header line without a colon"))?;
        let name = &line[..colon];
        if name.is_empty()
            || !name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
        {
            return Err(HttpError::Malformed("bad header name"));
        }
        let value = std::str::from_utf8(&line[colon + 1..])
            .map_err(|_| HttpError::Malformed("header value is not UTF-8"))?
            .trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case(b"content-length") {
            if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HttpError::Malformed("bad Content-Length"));
            }
            let n: u64 = value
                .parse()
                .map_err(|_| HttpError::Malformed("bad Content-Length"))?;
            if length.is_some_and(|m| m != n) {
                return Err(HttpError::Malformed("conflicting Content-Length headers"));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if !value.eq_ignore_ascii_case("chunked") || chunked {
                return Err(HttpError::Malformed("unsupported Transfer-Encoding"));
            }
            chunked = true;
        }
    }
    let framing = match (length, chunked) {
        (Some(_), true) => return Err(HttpError::Malformed("both Content-Length and chunked")),
        (Some(n), false) => Framing::Length(n),
        (None, true) => Framing::Chunked,
        (None, false) => Framing::UntilClose,
    };
    Ok((status, framing))
}

fn parse_status_line(line: &[u8]) -> Result<u16, HttpError> {
    let bad = HttpError::Malformed("bad status line");
    let rest = line
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| line.strip_prefix(b"HTTP/1.0 "))
        .ok_or(bad)?;
    let code = rest
        .get(..3)
        .ok_or(HttpError::Malformed("bad status line"))?;
    if !code.iter().all(u8::is_ascii_digit)
        || code[0] == b'0'
        || (rest.len() > 3 && rest[3] != b' ')
    {
        return Err(HttpError::Malformed("bad status line"));
    }
    Ok(
        u16::from(code[0] - b'0') * 100
            + u16::from(code[1] - b'0') * 10
            + u16::from(code[2] - b'0'),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    /// A one-shot server on 127.0.0.1 that reads the request head, answers
    /// `answer` (or stays silent with `None`), and returns what it read.
    fn server(answer: Option<Vec<u8>>) -> (SocketAddr, thread::JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Head, then the body by its Content-Length.
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&got).into_owned();
            let head_len = text.find("\r\n\r\n").map_or(got.len(), |i| i + 4);
            let len: usize = text
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            while got.len() < head_len + len {
                let n = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            match answer {
                Some(a) => {
                    s.write_all(&a).unwrap();
                }
                None => thread::sleep(Duration::from_millis(800)),
            }
            got
        });
        (addr, handle)
    }

    fn ask(addr: SocketAddr, body: &[u8], wait: Duration) -> Result<Response, HttpError> {
        let mut s = connect(&[addr], Duration::from_secs(2))?;
        let req = Request {
            method: "POST",
            target: "/p/v1/agents",
            host: "center:1",
            token: Some("sekrit"),
            content_type: "application/json",
            body,
        };
        exchange(&mut s, &req, Instant::now() + wait, 1024)
    }

    fn answer(raw: &str) -> Result<Response, HttpError> {
        let (addr, h) = server(Some(raw.as_bytes().to_vec()));
        let r = ask(addr, b"{}", Duration::from_secs(5));
        h.join().unwrap();
        r
    }

    #[test]
    fn sends_a_well_formed_request() {
        let (addr, h) = server(Some(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()));
        let r = ask(addr, b"{\"a\":1}", Duration::from_secs(5)).unwrap();
        assert_eq!(r.status, 204);
        let got = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(
            got.starts_with("POST /p/v1/agents HTTP/1.1\r\nHost: center:1\r\n"),
            "{got}"
        );
        assert!(
            got.contains("\r\nAuthorization: Bearer sekrit\r\n"),
            "{got}"
        );
        assert!(got.contains("\r\nContent-Length: 7\r\n"), "{got}");
        assert!(got.contains("\r\nConnection: close\r\n"), "{got}");
        assert!(got.ends_with("\r\n\r\n{\"a\":1}"), "{got}");
    }

    #[test]
    fn reads_length_chunked_and_until_close_bodies() {
        let r =
            answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-type: text/plain\r\n\r\nhello")
                .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        let r = answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nTrailer: t\r\n\r\n").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        let r = answer("HTTP/1.0 404 Not Found\r\n\r\nno such agent\nmore").unwrap();
        assert_eq!((r.status, r.reason().as_str()), (404, "no such agent"));
    }

    #[test]
    fn refuses_malformed_and_oversized_answers() {
        for (raw, want) in [
            ("HTTP/2 200 OK\r\n\r\n", "status line"),
            ("HTTP/1.1 20 OK\r\n\r\n", "status line"),
            ("HTTP/1.1 200OK\r\n\r\n", "status line"),
            ("garbage\r\n\r\n", "status line"),
            ("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "colon"),
            ("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", "folded"),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                "Content-Length",
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                "conflicting",
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
                "both",
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                "Transfer-Encoding",
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "chunk size",
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
                "longer than",
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                "before the end",
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                "before the end",
            ),
            ("HTTP/1.1 200 OK\r\nContent", "middle of a line"),
        ] {
            let e = answer(raw).unwrap_err().to_string();
            assert!(e.contains(want), "{raw:?}: {e}");
        }
        let big = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n{}",
            "x".repeat(1025)
        );
        assert!(matches!(answer(&big), Err(HttpError::TooLarge)));
        let big = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n{}\r\n0\r\n\r\n",
            "x".repeat(1025)
        );
        assert!(matches!(answer(&big), Err(HttpError::TooLarge)));
        let big = format!("HTTP/1.1 200 OK\r\n\r\n{}", "x".repeat(3000));
        assert!(matches!(answer(&big), Err(HttpError::TooLarge)));
        let long_head = format!(
            "HTTP/1.1 200 OK\r\nX: {}\r\n\r\n",
            "y".repeat(MAX_HEAD + 10)
        );
        assert!(answer(&long_head)
            .unwrap_err()
            .to_string()
            .contains("too long"));
    }

    #[test]
    fn a_silent_peer_times_out_at_the_deadline() {
        let (addr, h) = server(None);
        let start = Instant::now();
        let e = ask(addr, b"{}", Duration::from_millis(200)).unwrap_err();
        let took = start.elapsed();
        h.join().unwrap();
        assert!(e.to_string().contains("timed out"), "{e}");
        assert!(took < Duration::from_millis(700), "{took:?}");
    }

    #[test]
    fn a_closed_port_fails_to_connect() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let e = ask(addr, b"{}", Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, HttpError::Connect(_)), "{e}");
        assert!(e.to_string().contains("refused"), "{e}");
    }
}
