//! Runs the `--on-change` command: `sh -c COMMAND` in a process group of
//! its own, standard input from /dev/null, standard output shared with
//! watch, standard error collected for its last line (which a failure
//! reports). When watch is asked to stop while the command runs, the
//! group gets SIGTERM, and SIGKILL if it is still there after a grace
//! period, so watch's own exit is never held up for long.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::control::Control;

/// How long a stopped command gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(10);

/// How the command ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ran {
    /// Exit status 0.
    Succeeded,
    /// Another status (`exit status 3`, `killed by signal 9`), with the
    /// last non-empty line it wrote to standard error.
    Failed {
        status: String,
        last_line: Option<String>,
    },
    /// watch was asked to stop while it ran; it was ended.
    Stopped,
}

/// Runs `command` with `sh -c` and waits for it.
pub fn run(command: &OsStr, control: &Control) -> std::io::Result<Ran> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let stderr = child.stderr.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(last_line(stderr)));
    let status = wait(&mut child, control)?;
    // A background job of the command may keep the pipe open: its last
    // line is not worth waiting for.
    let last_line = rx.recv_timeout(Duration::from_secs(1)).unwrap_or(None);
    Ok(match status {
        None => Ran::Stopped,
        Some(s) if s.success() => Ran::Succeeded,
        Some(s) => Ran::Failed {
            status: describe(s),
            last_line,
        },
    })
}

/// The exit status, or `None` when a stop ended the command.
fn wait(child: &mut std::process::Child, control: &Control) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(Some(s));
        }
        if control.stopping() {
            break;
        }
        control.nap(Duration::from_millis(20));
    }
    let group = child.id() as i32;
    signal_group(group, SIGTERM);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if child.try_wait()?.is_some() {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_group(group, SIGKILL);
    child.wait()?;
    Ok(None)
}

const SIGTERM: i32 = 15;
const SIGKILL: i32 = 9;

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

/// Sends `sig` to the process group `group` (the command's own).
fn signal_group(group: i32, sig: i32) {
    // SAFETY: kill(2) takes two integers and touches no memory of ours; a
    // negative pid names the group the command leads (process_group(0)).
    unsafe {
        kill(-group, sig);
    }
}

/// `exit status 3` or `killed by signal 9`.
fn describe(s: ExitStatus) -> String {
    match (s.code(), s.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => s.to_string(),
    }
}

/// The last non-empty line of `r` (each line cut at 1,000 bytes, so a
/// command writing without newlines cannot use unbounded memory).
fn last_line(r: impl Read) -> Option<String> {
    let mut reader = BufReader::new(r);
    let mut last = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.by_ref().take(1000).read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return last,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim();
        if !line.is_empty() {
            last = Some(line.to_string());
        }
        if !buf.ends_with(b"\n") {
            // The rest of an over-long line is skipped.
            let mut skip = Vec::new();
            if reader.read_until(b'\n', &mut skip).is_err() {
                return last;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines() {
        assert_eq!(last_line(&b""[..]), None);
        assert_eq!(last_line(&b"a\nb\n\n  \n"[..]).as_deref(), Some("b"));
        assert_eq!(
            last_line(&b"a\nno newline"[..]).as_deref(),
            Some("no newline")
        );
        let long = format!("first\n{}\n", "x".repeat(5000));
        assert_eq!(last_line(long.as_bytes()).unwrap().len(), 1000);
    }
}
