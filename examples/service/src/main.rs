//! `service`: a tiny HTTP/1.1 server using only std. One thread per
//! connection and one request per connection (`Connection: close`). It runs
//! until it is killed and installs no signal handlers.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Limits that keep one bad client from using unbounded memory.
const MAX_LINE: u64 = 8 * 1024;
const MAX_HEADERS: usize = 100;
const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, PartialEq)]
struct Request {
    method: String,
    path: String,
    query: String,
    body: Vec<u8>,
}

impl Request {
    /// The decoded value of query parameter `name`, if present.
    fn param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
            .find(|(k, _)| decode(k) == name)
            .map(|(_, v)| decode(v))
    }
}

#[derive(Debug, PartialEq)]
struct Response {
    status: u16,
    body: Vec<u8>,
}

impl Response {
    fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            body: body.into(),
        }
    }

    fn write_to(&self, mut w: impl Write) -> io::Result<()> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            413 => "Payload Too Large",
            _ => "Unknown",
        };
        // Built in one buffer so the response leaves in a single write.
        let mut out = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.status,
            self.body.len()
        )
        .into_bytes();
        out.extend_from_slice(&self.body);
        w.write_all(&out)?;
        w.flush()
    }
}

/// Shared by all connection threads.
#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    not_found: AtomicU64,
}

/// Decodes `%XX` escapes and `+` (space) of a query component.
fn decode(s: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            (b'+', _, _) => out.push(b' '),
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One line without its CRLF; `None` at end of input.
fn read_line(r: &mut impl BufRead) -> Result<Option<String>, Response> {
    let mut line = String::new();
    match r.by_ref().take(MAX_LINE).read_line(&mut line) {
        Ok(0) => Ok(None),
        Ok(_) if !line.ends_with('\n') => Err(Response::new(400, "line too long\n")),
        Ok(_) => Ok(Some(line.trim_end_matches(['\r', '\n']).to_string())),
        Err(e) => Err(Response::new(400, format!("read error: {e}\n"))),
    }
}

/// Reads one request. `Ok(None)` when the client closed without sending one;
/// `Err` carries the error response to send back.
fn read_request(r: &mut impl BufRead) -> Result<Option<Request>, Response> {
    let Some(line) = read_line(r)? else {
        return Ok(None);
    };
    let bad = |msg: &str| Response::new(400, format!("bad request: {msg}\n"));
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(bad("unsupported HTTP version"));
    }

    let mut content_length = 0;
    for _ in 0..MAX_HEADERS {
        let line = read_line(r)?.ok_or_else(|| bad("unexpected end of headers"))?;
        if line.is_empty() {
            let mut body = vec![0; content_length];
            r.read_exact(&mut body).map_err(|_| bad("short body"))?;
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            return Ok(Some(Request {
                method: method.to_string(),
                path: path.to_string(),
                query: query.to_string(),
                body,
            }));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("malformed header"))?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            content_length = value
                .trim()
                .parse()
                .map_err(|_| bad("bad Content-Length"))?;
            if content_length > MAX_BODY {
                return Err(Response::new(413, "body too large\n"));
            }
        }
    }
    Err(bad("too many headers"))
}

fn route(req: &Request, stats: &Stats) -> Response {
    let count = stats.requests.fetch_add(1, Ordering::Relaxed) + 1;
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/health") => Response::new(200, "ok\n"),
        ("GET", "/hello") => {
            let name = req.param("name").unwrap_or_else(|| "world".to_string());
            Response::new(200, format!("hello, {name}!\n"))
        }
        ("GET", "/sum") => {
            let int = |k| req.param(k).and_then(|v| v.parse::<i64>().ok());
            match (int("a"), int("b")) {
                (Some(a), Some(b)) => match a.checked_add(b) {
                    Some(sum) => Response::new(200, format!("{sum}\n")),
                    None => Response::new(400, "overflow\n"),
                },
                _ => Response::new(400, "a and b must be integers\n"),
            }
        }
        ("GET", "/stats") => {
            let not_found = stats.not_found.load(Ordering::Relaxed);
            Response::new(200, format!("requests: {count}\nnot_found: {not_found}\n"))
        }
        ("POST", "/echo") => Response::new(200, req.body.clone()),
        (_, "/health" | "/hello" | "/sum" | "/stats" | "/echo") => {
            Response::new(405, "method not allowed\n")
        }
        _ => {
            stats.not_found.fetch_add(1, Ordering::Relaxed);
            Response::new(404, "not found\n")
        }
    }
}

fn handle(stream: TcpStream, stats: &Stats) -> io::Result<()> {
    // A silent client must not keep its thread forever.
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let response = match read_request(&mut BufReader::new(&stream)) {
        Ok(Some(req)) => route(&req, stats),
        Ok(None) => return Ok(()),
        Err(response) => response,
    };
    response.write_to(&stream)
}

/// The first argument (an address, or just a port), else `PORT`, else any free port.
fn listen_addr(arg: Option<String>, port: Option<String>) -> String {
    match (arg, port) {
        (Some(a), _) if a.parse::<u16>().is_ok() => format!("127.0.0.1:{a}"),
        (Some(a), _) => a,
        (None, Some(p)) => format!("127.0.0.1:{p}"),
        (None, None) => "127.0.0.1:0".to_string(),
    }
}

fn main() -> ExitCode {
    let addr = listen_addr(std::env::args().nth(1), std::env::var("PORT").ok());
    let listener = match TcpListener::bind(&addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("service: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener.local_addr().expect("bound socket has an address");
    // Tests read this line to learn the port, so flush it right away.
    let mut stdout = io::stdout().lock();
    if writeln!(stdout, "listening on http://{local}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);

    let stats = Arc::new(Stats::default());
    for conn in listener.incoming() {
        match conn {
            Ok(stream) => {
                let stats = Arc::clone(&stats);
                thread::spawn(move || {
                    if let Err(e) = handle(stream, &stats) {
                        eprintln!("service: connection error: {e}");
                    }
                });
            }
            Err(e) => eprintln!("service: accept failed: {e}"),
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Option<Request>, Response> {
        read_request(&mut raw.as_bytes())
    }

    fn get(target: &str, stats: &Stats) -> (u16, String) {
        let req = parse(&format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"))
            .unwrap()
            .unwrap();
        let resp = route(&req, stats);
        (resp.status, String::from_utf8(resp.body).unwrap())
    }

    #[test]
    fn parses_request_with_body() {
        let req = parse("POST /echo?x=1 HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello")
            .unwrap()
            .unwrap();
        assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/echo"));
        assert_eq!(
            (req.query.as_str(), req.body.as_slice()),
            ("x=1", &b"hello"[..])
        );
    }

    #[test]
    fn rejects_malformed_requests() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("GET /\r\n\r\n").unwrap_err().status, 400);
        assert_eq!(parse("GET / SPDY/3\r\n\r\n").unwrap_err().status, 400);
        let huge = "GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n";
        assert_eq!(parse(huge).unwrap_err().status, 413);
    }

    #[test]
    fn routes() {
        let stats = Stats::default();
        assert_eq!(get("/health", &stats), (200, "ok\n".into()));
        assert_eq!(
            get("/hello?name=J%C3%BCrgen+M", &stats).1,
            "hello, Jürgen M!\n"
        );
        assert_eq!(get("/hello", &stats).1, "hello, world!\n");
        assert_eq!(get("/sum?a=2&b=-5", &stats), (200, "-3\n".into()));
        assert_eq!(get("/sum?a=2&b=x", &stats).0, 400);
        assert_eq!(get("/nope", &stats).0, 404);
        assert_eq!(get("/stats", &stats).1, "requests: 7\nnot_found: 1\n");
    }

    #[test]
    fn response_format() {
        let mut out = Vec::new();
        Response::new(200, "ok\n").write_to(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.ends_with("Content-Length: 3\r\nConnection: close\r\n\r\nok\n"));
    }

    #[test]
    fn address_choice() {
        assert_eq!(listen_addr(Some("8080".into()), None), "127.0.0.1:8080");
        assert_eq!(listen_addr(Some("[::1]:9".into()), None), "[::1]:9");
        assert_eq!(listen_addr(None, Some("81".into())), "127.0.0.1:81");
        assert_eq!(listen_addr(None, None), "127.0.0.1:0");
    }
}
