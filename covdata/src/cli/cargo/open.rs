//! `--open`: shows the HTML report in a browser.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use super::NAME;

/// Opens `index` with `$BROWSER` (a `:`-separated list of commands, each
/// split at spaces, `%s` standing for the file, as Python's webbrowser and
/// xdg-utils read it), else `xdg-open`, else prints where it is. The
/// browser is started, not waited for.
pub fn report(index: &Path) {
    let browsers = std::env::var("BROWSER").unwrap_or_default();
    let candidates = browsers
        .split(':')
        .filter(|c| !c.trim().is_empty())
        .map(|c| command_line(c, index))
        .chain(std::iter::once(vec![
            OsString::from("xdg-open"),
            index.as_os_str().to_os_string(),
        ]));
    for argv in candidates {
        let started = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .spawn();
        if started.is_ok() {
            return;
        }
    }
    eprintln!(
        "{NAME}: no browser found ($BROWSER unset, no xdg-open); the report is {}",
        index.display()
    );
}

/// One `$BROWSER` entry as a command for `index`.
fn command_line(entry: &str, index: &Path) -> Vec<OsString> {
    let mut argv: Vec<OsString> = Vec::new();
    let mut substituted = false;
    for word in entry.split_whitespace() {
        if word.contains("%s") {
            substituted = true;
            let (before, after) = word.split_once("%s").unwrap_or((word, ""));
            let mut arg = OsString::from(before);
            arg.push(index);
            arg.push(after);
            argv.push(arg);
        } else {
            argv.push(word.into());
        }
    }
    if !substituted {
        argv.push(index.as_os_str().to_os_string());
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_entries() {
        let index = Path::new("/r/index.html");
        assert_eq!(
            command_line("firefox --new-tab", index),
            ["firefox", "--new-tab", "/r/index.html"]
        );
        assert_eq!(
            command_line("w3m file://%s", index),
            ["w3m", "file:///r/index.html"]
        );
    }
}
