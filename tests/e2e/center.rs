//! The center (`covdata serve`) with real instrumented services: the
//! service example under traffic (profile, clear, a center restart, SIGTERM)
//! and fifty services of which one is frozen with SIGSTOP. The agent's own
//! behaviour is tested in `agent`; the server alone in covdata/tests/center.rs.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// A service with an agent; returns it and its base URL.
pub(crate) fn start_service(center: &Center, name: &str) -> (Child, String) {
    start_service_with(center, name, &[])
}

/// [`start_service`] with more environment (COVDIR unset unless given).
fn start_service_with(center: &Center, name: &str, env: &[(&str, &str)]) -> (Child, String) {
    spawn_listening(
        Command::new(service_example())
            .default_signals()
            .arg("127.0.0.1:0")
            .env("COVWRAP_CENTER", &center.url)
            .env("COVWRAP_SERVICE", name)
            .env_remove("COVDIR")
            .env_remove("COVWRAP_CONTINUOUS")
            .env_remove("COVWRAP_CENTER_TOKEN")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stderr(Stdio::null()),
    )
}

fn covdata(args: &[&str]) -> Output {
    let out = Command::new(covdata_exe())
        .args(args)
        .env_remove("COVDATA_CENTER_TOKEN")
        .output()
        .unwrap();
    assert_success(&out, &format!("covdata {args:?}"));
    out
}

/// The line of the service's source that holds `text`.
fn source_line(text: &str) -> usize {
    let src = std::fs::read_to_string(repo_root().join("examples/service/src/main.rs")).unwrap();
    src.lines()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("{text}"))
        + 1
}

/// The hit count lcov gives `line` of the service's main.rs.
fn hits(lcov: &str, line: usize) -> u64 {
    let mut in_main = false;
    for l in lcov.lines() {
        if let Some(f) = l.strip_prefix("SF:") {
            in_main = f.ends_with("src/main.rs");
        } else if in_main {
            if let Some(da) = l.strip_prefix("DA:") {
                let (n, c) = da.split_once(',').unwrap();
                if n.parse::<usize>().unwrap() == line {
                    return c.split(',').next().unwrap().parse().unwrap();
                }
            }
        }
    }
    panic!("line {line} not in the lcov report")
}

fn lcov(center: &Center, extra: &[&str]) -> String {
    stdout(&center.covdata(&[&["lcov"], extra].concat()))
}

#[test]
fn the_service_under_traffic_profile_clear_restart_and_sigterm() {
    let dir = scratch("center-service");
    let store = dir.join("store");
    let store_s = store.to_str().unwrap();
    let mut center = Center::start("127.0.0.1:0", store_s, &["--heartbeat=3s"]);
    let (svc, base) = start_service(&center, "orders");
    let pid = svc.id();
    let mut services = Children(vec![svc]);
    let id = center.wait_for(pid, "connected", Duration::from_secs(20));
    let hello = source_line("hello, {name}!");
    let sum = source_line("Some(sum) => Response::new(200");
    for _ in 0..3 {
        assert!(http_get(&base, "/hello?name=x").contains("hello, x!"));
    }
    assert!(http_get(&base, "/sum?a=40&b=2").ends_with("42\n"));
    let report = lcov(&center, &["--service=orders"]);
    assert_eq!((hits(&report, hello), hits(&report, sum)), (3, 1));

    // clear: the handlers at zero; more requests count again.
    center.covdata(&["clear", "--service=orders"]);
    let report = lcov(&center, &[]);
    assert_eq!((hits(&report, hello), hits(&report, sum)), (0, 0));
    http_get(&base, "/hello");
    let report = lcov(&center, &[]);
    assert_eq!((hits(&report, hello), hits(&report, sum)), (1, 0));

    // The center restarts in the middle: nothing lost, the id kept.
    send_signal(center.child.id(), SIGTERM);
    assert!(wait_with_timeout(&mut center.child, Duration::from_secs(10)).success());
    http_get(&base, "/hello");
    let (addr, url) = (center.addr.clone(), center.url.clone());
    center.stop();
    let center = Center::start(&addr, store_s, &["--heartbeat=3s"]);
    assert_eq!(center.url, url);
    wait_until("the agent back", Duration::from_secs(30), || {
        center
            .agents()
            .iter()
            .any(|a| a.id == id && a.status == "connected")
    });
    assert_eq!(center.agents().len(), 1);
    assert_eq!(hits(&lcov(&center, &[]), hello), 2);

    // SIGTERM: the final counters are at the center, and in its store.
    http_get(&base, "/sum?a=1&b=2");
    send_signal(pid, SIGTERM);
    let status = wait_with_timeout(&mut services.0[0], Duration::from_secs(10));
    assert_eq!(
        signal_of(status),
        Some(SIGTERM),
        "the service ends as it would without us"
    );
    wait_until("exited", Duration::from_secs(10), || {
        center
            .agents()
            .iter()
            .any(|a| a.id == id && a.status == "exited")
    });
    let report = lcov(&center, &[]);
    assert_eq!((hits(&report, hello), hits(&report, sum)), (2, 1));
    let snap = dir.join("snap");
    center.covdata(&["profile", &format!("-o={}", snap.display())]);
    let from_store = stdout(&covdata(&[
        "lcov",
        &format!("-i={}", store.join("cov").display()),
    ]));
    assert_eq!(hits(&from_store, hello), 2);
    let from_snap = stdout(&covdata(&["lcov", &format!("-i={}", snap.display())]));
    assert_eq!(from_snap, report);
}

#[test]
fn fifty_services_one_frozen_profile_returns_in_time_and_names_it() {
    let center = Center::memory();
    let mut services = Children(Vec::new());
    let mut bases = Vec::new();
    for i in 0..50 {
        let (svc, base) = start_service(&center, if i % 2 == 0 { "orders" } else { "payments" });
        services.0.push(svc);
        bases.push(base);
    }
    wait_until("fifty agents", Duration::from_secs(60), || {
        center
            .agents()
            .iter()
            .filter(|a| a.status == "connected")
            .count()
            == 50
    });
    for base in &bases {
        http_get(base, "/hello");
    }
    let frozen_pid = services.0[6].id();
    let frozen_id = center.agent(frozen_pid).unwrap().id;
    send_signal(frozen_pid, SIGSTOP);
    let snap = scratch("center-fifty").join("snap");
    let start = Instant::now();
    let out = center.covdata(&["profile", "--timeout=2s", &format!("-o={}", snap.display())]);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(6), "profile took {took:?}");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("id={frozen_id} ")) && err.contains("timeout after 2000 ms"),
        "{err}"
    );
    let counter_files = std::fs::read_dir(&snap)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("covcounters.")
        })
        .count();
    assert_eq!(counter_files, 49);
    let hello = source_line("hello, {name}!");
    assert_eq!(
        hits(
            &stdout(&covdata(&["lcov", &format!("-i={}", snap.display())])),
            hello
        ),
        49
    );
    send_signal(frozen_pid, SIGCONT);
}

#[test]
fn continuous_mode_counts_reach_the_center_and_survive_sigkill() {
    // In continuous mode the counters live in the mapped dense file: the
    // agent must snapshot those, not the binary's own (stale) section.
    let dir = scratch("center-continuous");
    let covdir = dir.join("cov");
    std::fs::create_dir_all(&covdir).unwrap();
    let store = dir.join("store");
    let center = Center::start("127.0.0.1:0", store.to_str().unwrap(), &[]);
    let (svc, base) = start_service_with(
        &center,
        "orders",
        &[
            ("COVDIR", covdir.to_str().unwrap()),
            ("COVWRAP_CONTINUOUS", "1"),
        ],
    );
    let pid = svc.id();
    let mut services = Children(vec![svc]);
    center.wait_for(pid, "connected", Duration::from_secs(20));
    let hello = source_line("hello, {name}!");
    for _ in 0..3 {
        assert!(http_get(&base, "/hello?name=x").contains("hello, x!"));
    }
    assert_eq!(hits(&lcov(&center, &["--service=orders"]), hello), 3);
    http_get(&base, "/hello");
    send_signal(pid, SIGKILL);
    let _ = wait_with_timeout(&mut services.0[0], Duration::from_secs(10));
    let local = stdout(&covdata(&["lcov", &format!("-i={}", covdir.display())]));
    assert_eq!(hits(&local, hello), 4, "the killed run's dense file");
}
