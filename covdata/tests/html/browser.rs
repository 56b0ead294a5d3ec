//! Headless Chromium for tests/html.rs: the DOM after a page's script
//! ran, screenshots, and key presses over the DevTools pipe.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Chromium (`chromium` or `chromium-browser` on PATH). The browser tests
/// fail without it, as the other tests fail without the tools they check
/// against (.ci/run installs it).
pub fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("chromium is required for the browser tests (apt-get install chromium; .ci/run installs it)");
}

/// Chromium headless, offline and quiet: no sandbox (containers), GPU,
/// first-run pages, background or update traffic.
const HEADLESS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Runs headless Chromium on `url` with `extra` flags, killed after 90 s.
pub fn run_chromium(bin: &Path, extra: &[&str], url: &str) -> String {
    static PROFILE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = PROFILE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = std::env::temp_dir().join(format!("covdata-chromium-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let mut child = Command::new(bin)
        .args(HEADLESS)
        .arg("--hide-scrollbars")
        .arg(format!("--user-data-dir={}", profile.display()))
        .env("TMPDIR", private_tmp(&profile))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut { stdout }, &mut s).unwrap();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium on {url} did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    remove_profile(&profile);
    assert!(status.success(), "chromium on {url}: {status}\n{err}");
    out
}

/// The DOM of `page#fragment` after the page's script ran.
pub fn dom(bin: &Path, page: &Path, fragment: &str) -> String {
    let url = format!("file://{}{fragment}", page.display());
    let dom = run_chromium(bin, &["--virtual-time-budget=5000", "--dump-dom"], &url);
    assert!(dom.contains("</html>"), "no DOM for {url}: {dom}");
    dom
}

/// A screenshot of `page` (1280 px wide, `height` high) into `shot`, dark
/// with the dark colour-scheme preference. Pages
/// are taken unscrolled: headless Chromium captures a scrolled page blank.
pub fn screenshot(bin: &Path, page: &Path, height: u32, shot: &Path, dark: bool) {
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(shot);
    let arg = format!("--screenshot={}", shot.display());
    let size = format!("--window-size=1280,{height}");
    let mut flags = vec![arg.as_str(), size.as_str(), "--virtual-time-budget=3000"];
    if dark {
        flags.push("--blink-settings=preferredColorScheme=0");
    }
    run_chromium(bin, &flags, &format!("file://{}", page.display()));
    let png = std::fs::read(shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5000,
        "{}",
        shot.display()
    );
}

/// Chromium driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: commands on its fd 3, answers on its fd 4,
/// each a JSON text ended by a NUL byte), to press real keys.
pub struct DevTools {
    child: std::process::Child,
    commands: std::process::ChildStdin,
    answers: std::sync::mpsc::Receiver<serde_json::Value>,
    next_id: u64,
    profile: PathBuf,
}

impl DevTools {
    /// Chromium on about:blank (see [`DevTools::open`]).
    fn start(bin: &Path) -> DevTools {
        // One profile per browser: tests run side by side.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let profile =
            std::env::temp_dir().join(format!("covdata-devtools-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        // bash maps our pipes to the fds Chromium reads and writes.
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null"#)
            .arg(bin)
            .args(HEADLESS)
            .args(["--remote-debugging-pipe", "--window-size=1280,900"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .env("TMPDIR", private_tmp(&profile))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let commands = child.stdin.take().unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let (tx, answers) = std::sync::mpsc::channel();
        std::thread::spawn(move || loop {
            let mut msg = Vec::new();
            match std::io::BufRead::read_until(&mut out, 0, &mut msg) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    msg.pop();
                    if let Ok(v) = serde_json::from_slice(&msg) {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        DevTools {
            child,
            commands,
            answers,
            next_id: 1,
            profile,
        }
    }

    /// Sends a command (to a page session if given) and returns its result.
    pub fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: serde_json::Value,
    ) -> serde_json::Value {
        use std::io::Write as _;
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = serde_json::json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = s.into();
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).unwrap();
        self.commands.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .answers
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("chromium: no answer to {method}: {e}"));
            if v["id"].as_u64() == Some(id) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates `expr` in the page (awaiting a promise) and returns its value.
    pub fn eval(&mut self, session: &str, expr: &str) -> serde_json::Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            serde_json::json!({"expression": expr, "awaitPromise": true, "returnByValue": true}),
        );
        r["result"]["value"].clone()
    }

    /// Chromium on `page`, attached, focused and loaded: the DevTools and
    /// the page's session. It starts on about:blank and navigates once
    /// attached: evaluating while the start page is still being replaced
    /// fails ("Execution context was destroyed") when the machine is busy.
    pub fn open(bin: &Path, page: &Path) -> (DevTools, String) {
        let mut dt = DevTools::start(bin);
        let targets = dt.call(None, "Target.getTargets", serde_json::json!({}));
        let target = targets["targetInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .unwrap_or_else(|| panic!("no page: {targets}"))["targetId"]
            .clone();
        let attached = dt.call(
            None,
            "Target.attachToTarget",
            serde_json::json!({"targetId": target, "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_string();
        let navigated = dt.call(
            Some(&session),
            "Page.navigate",
            serde_json::json!({"url": format!("file://{}", page.display())}),
        );
        assert!(navigated.get("errorText").is_none(), "{navigated}");
        // Key events go to the focused page; a headless page has no focus
        // unless emulated.
        dt.call(Some(&session), "Page.bringToFront", serde_json::json!({}));
        dt.call(
            Some(&session),
            "Emulation.setFocusEmulationEnabled",
            serde_json::json!({"enabled": true}),
        );
        // Page.navigate returns once the navigation committed; wait for
        // the report page's load.
        let loaded = "location.protocol === 'file:' && document.readyState === 'complete'";
        assert_eq!(dt.eval_until(&session, loaded, true), true);
        // Keys reach the page only once it has the (emulated) focus.
        assert_eq!(
            dt.eval_until(&session, "document.hasFocus()", true),
            true,
            "the page never got the focus"
        );
        (dt, session)
    }

    /// Evaluates `expr` until it gives `want` (at most 10 s: a page may
    /// still be loading, an input event may be handled a moment after it
    /// was dispatched) and returns its last value.
    pub fn eval_until(
        &mut self,
        session: &str,
        expr: &str,
        want: impl Into<serde_json::Value>,
    ) -> serde_json::Value {
        let want = want.into().to_string();
        self.eval(
            session,
            &format!(
                "new Promise(r => {{ const t0 = Date.now(); (function poll() {{ const v = {expr}; if (v === {want} || Date.now() - t0 > 10000) r(v); else setTimeout(poll, 20); }})(); }})"
            ),
        )
    }

    /// A real left click (pressed, released) at the centre of the first
    /// element matching `selector`, scrolled into view first.
    pub fn click(&mut self, session: &str, selector: &str) {
        let selector_js = serde_json::to_string(selector).unwrap();
        let at = self.eval(
            session,
            &format!(
                "(() => {{ const e = document.querySelector({selector_js}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); const b = e.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; }})()"
            ),
        );
        let (x, y) = match at.as_array().map(|a| (a[0].as_f64(), a[1].as_f64())) {
            Some((Some(x), Some(y))) => (x, y),
            _ => panic!("no element {selector} to click"),
        };
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                Some(session),
                "Input.dispatchMouseEvent",
                serde_json::json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Presses a letter key (`j`), which types it.
    pub fn press(&mut self, session: &str, key: &str) {
        let upper = key.to_uppercase();
        let code = format!("Key{upper}");
        self.key(session, key, &code, upper.as_bytes()[0].into(), Some(key));
    }

    /// Presses a named key (`Backspace`, ...) with its virtual key code.
    pub fn press_named(&mut self, session: &str, key: &str, vk: u32) {
        self.key(session, key, key, vk, None);
    }

    /// Key down (typing `text`, if any), then key up.
    fn key(&mut self, session: &str, key: &str, code: &str, vk: u32, text: Option<&str>) {
        for kind in ["keyDown", "keyUp"] {
            let mut p = serde_json::json!({"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": vk});
            if let Some(text) = text.filter(|_| kind == "keyDown") {
                p["text"] = text.into();
            }
            self.call(Some(session), "Input.dispatchKeyEvent", p);
        }
    }
}

impl Drop for DevTools {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        remove_profile(&self.profile);
    }
}

/// A temp directory inside `profile` for Chromium: the singleton
/// directories it makes there (`org.chromium.Chromium.*`) outlive a
/// killed browser, and go with the profile instead of piling up in the
/// system's temp directory.
fn private_tmp(profile: &Path) -> PathBuf {
    let tmp = profile.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    tmp
}

/// Removes a Chromium profile directory. Chromium's helper processes can
/// outlive the browser for a moment and write into it meanwhile, so the
/// removal is retried until the directory stays gone (at most 2 s).
fn remove_profile(profile: &Path) {
    for _ in 0..40 {
        let _ = std::fs::remove_dir_all(profile);
        if !profile.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
