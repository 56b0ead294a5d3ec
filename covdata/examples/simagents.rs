//! Simulated agents for bench/center.sh: N agents speaking the agent side
//! of the protocol (covdata::center::sim) against a running center, then
//! timed profiles of all of them.
//!
//! ```text
//! simagents --center=URL (--covdir=DIR | --synthetic=C) --agents=N [--profiles=K] [--serial=M]
//! ```
//! DIR holds the covmeta file and one covcounters file of a real run of
//! the program the agents pretend to be (their counters start as that
//! run's). `--synthetic=C` makes a meta file of C counters instead (in
//! functions of 10, without LLVM records: the center never decodes them)
//! with every sixth counter non-zero (about what one ripgrep search
//! leaves of ripgrep's counters). Prints one JSON object: the profile latencies (ms), the bundle
//! size, the agents included and skipped, and with `--serial=M` the time
//! of M one-agent profiles in a row (how a center that fetches agents
//! one at a time would scale).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use covdata::center::client::{Client, Selection};
use covdata::center::sim::SimAgent;
use covwrap_rt::format::counters::CountersFile;

fn arg(name: &str) -> Option<String> {
    std::env::args().find_map(|a| a.strip_prefix(&format!("--{name}=")).map(str::to_string))
}

fn need(name: &str) -> String {
    arg(name).unwrap_or_else(|| {
        eprintln!("simagents: needs --{name}=...");
        std::process::exit(2)
    })
}

fn main() {
    let center = need("center");
    let n: usize = need("agents").parse().expect("--agents=N");
    let profiles: usize = arg("profiles").map_or(5, |p| p.parse().expect("--profiles=K"));
    let serial: usize = arg("serial").map_or(0, |p| p.parse().expect("--serial=M"));
    let (meta, dense) = match arg("synthetic") {
        Some(c) => synthetic(c.parse().expect("--synthetic=COUNTERS")),
        None => from_covdir(&PathBuf::from(need("covdir"))),
    };
    run(&center, n, profiles, serial, meta, dense);
}

fn synthetic(total: u32) -> (Vec<u8>, Vec<u64>) {
    use covwrap_rt::format::meta::{FuncEntry, MetaBuilder};
    let funcs = (0..total.div_ceil(10))
        .map(|f| FuncEntry {
            name_ref: u64::from(f) + 1,
            func_hash: 7,
            first_counter: f * 10,
            num_counters: 10.min(total - f * 10),
        })
        .collect();
    let (meta, _) = MetaBuilder {
        ident: vec![("build-id".into(), "simagents".into())],
        funcs,
        total_counters: total,
        names: Vec::new(),
        covmap: Vec::new(),
        covfun: Vec::new(),
        build_time_ns: None,
    }
    .encode();
    let dense = (0..u64::from(total))
        .map(|i| if i % 6 == 0 { i % 1000 + 1 } else { 0 })
        .collect();
    (meta, dense)
}

fn from_covdir(covdir: &std::path::Path) -> (Vec<u8>, Vec<u64>) {
    let mut meta = None;
    let mut counters = None;
    for entry in std::fs::read_dir(covdir).expect("--covdir") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("covmeta.") {
            meta = Some(std::fs::read(&path).unwrap());
        } else if name.starts_with("covcounters.") && counters.is_none() {
            counters = Some(std::fs::read(&path).unwrap());
        }
    }
    let meta = meta.expect("a covmeta file in --covdir");
    let counters = counters.expect("a covcounters file in --covdir");
    let file = CountersFile::parse(&counters).expect("a valid covcounters file");
    let mut dense = vec![0u64; file.header().num_counters as usize];
    file.add_into(&mut dense);
    (meta, dense)
}

fn run(center: &str, n: usize, profiles: usize, serial: usize, meta: Vec<u8>, dense: Vec<u64>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let agents: Vec<SimAgent> = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        // Register in waves, as a fleet coming up would.
        let mut out = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
            for &i in chunk {
                let mut a = SimAgent::new(
                    center,
                    None,
                    &format!("svc{}", i % 10),
                    10_000 + i as u64,
                    &meta,
                )
                .expect("agent");
                a.set_counters(&dense);
                set.spawn(async move {
                    a.register().await.expect("register");
                    a
                });
            }
            while let Some(a) = set.join_next().await {
                out.push(a.unwrap());
            }
        }
        out
    });
    let registered_ms = start.elapsed().as_secs_f64() * 1000.0;
    for a in &agents {
        rt.spawn(
            a.clone()
                .run_until(stop.clone(), 20, Duration::from_millis(200)),
        );
    }
    // Let every agent's first poll arrive.
    std::thread::sleep(Duration::from_millis(500 + n as u64));
    let client = Client::new(center, None, Duration::from_secs(30)).unwrap();
    let mut latencies = Vec::new();
    let mut bundle_bytes = 0;
    let mut included = 0;
    let mut skipped = 0;
    for _ in 0..profiles {
        let t = Instant::now();
        let p = client
            .profile(&Selection::default(), Duration::from_secs(5), false)
            .expect("profile");
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        bundle_bytes = covdata::center::bundle::encode(&p.files).len();
        included = p
            .files
            .files()
            .filter(|(n, _)| n.starts_with("covcounters."))
            .count();
        skipped = p.skipped.len();
    }
    let mut serial_ms = None;
    if serial > 0 {
        let t = Instant::now();
        for a in agents.iter().take(serial) {
            let sel = Selection {
                ids: vec![a.reg.id.unwrap_or(0)],
                ..Default::default()
            };
            client
                .profile(&sel, Duration::from_secs(5), false)
                .expect("profile");
        }
        serial_ms = Some(t.elapsed().as_secs_f64() * 1000.0);
    }
    stop.store(true, Ordering::SeqCst);
    latencies.sort_by(f64::total_cmp);
    let median = latencies[latencies.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "agents": n,
            "registered_ms": registered_ms,
            "profile_ms": latencies,
            "median_ms": median,
            "bundle_bytes": bundle_bytes,
            "included": included,
            "skipped": skipped,
            "serial_profiles": serial,
            "serial_ms": serial_ms,
            "counters": dense.len(),
            "meta_bytes": meta.len(),
        })
    );
    rt.shutdown_timeout(Duration::from_millis(100));
}
