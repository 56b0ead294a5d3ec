//! Live servers in tests: the `covdata serve` command line, the address a
//! server prints first, polling with a deadline. Std only: tests/e2e
//! includes this file too (`#[path]`), so both suites do these one way.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// `covdata serve --addr=ADDR --store=STORE --exit-after=120s EXTRA...`
/// (it stops by itself), COVDATA_CENTER_TOKEN unset, stdout and stderr piped.
pub fn serve_command(covdata: &Path, addr: &str, store: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(covdata);
    cmd.args([
        "serve",
        &format!("--addr={addr}"),
        &format!("--store={store}"),
        "--exit-after=120s",
    ])
    .args(extra)
    .env_remove("COVDATA_CENTER_TOKEN")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// Reads the first line of a server's stdout, `listening on ADDR`, and
/// returns ADDR and the rest of its stdout; `context` adds to the failure.
pub fn listening_on(
    child: &mut Child,
    context: impl FnOnce() -> String,
) -> (String, BufReader<ChildStdout>) {
    let mut out = BufReader::new(child.stdout.take().expect("stdout piped"));
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    match line.trim().strip_prefix("listening on ") {
        Some(addr) => (addr.to_string(), out),
        None => panic!(
            "first line {line:?}, not \"listening on ...\" {}",
            context()
        ),
    }
}

/// Polls `ok` until it holds; fails the test after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `127.0.0.1:PORT` with a port that was free a moment ago, for a server
/// a test starts later than its clients.
pub fn free_local_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}
