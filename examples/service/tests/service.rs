//! Starts the real binary, talks HTTP to it over TCP, then kills it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the server even when an assertion fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn request(addr: &str, raw: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut response = String::new();
    // The server closes the connection after each response.
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serves_requests_until_killed() {
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_service"))
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start service"),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .expect("listening line")
        .to_string();

    let health = request(&addr, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200 OK\r\n"), "{health}");
    assert!(health.ends_with("\r\n\r\nok\n"), "{health}");

    let sum = request(&addr, "GET /sum?a=40&b=2 HTTP/1.1\r\n\r\n");
    assert!(sum.ends_with("\r\n\r\n42\n"), "{sum}");

    let echo = request(
        &addr,
        "POST /echo HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello there",
    );
    assert!(echo.ends_with("\r\n\r\nhello there"), "{echo}");

    server.0.kill().unwrap();
    assert!(!server.0.wait().unwrap().success());
}
