//! COVWRAP_MERGE=1: hundreds of processes folding their runs into one pool
//! file per binary, some of them killed at random, none counted twice.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::*;

const POOLED: &str = r#"
#[inline(never)]
fn marker() -> u64 { 7 }
fn work(n: u64) -> u64 { (0..n).map(|i| i % 7).sum() }
fn main() {
    let m = marker();
    // Signals sent before the runtime's constructor ran would just kill the
    // process (its main never ran either); tests signal only after this.
    println!("ready");
    std::io::Write::flush(&mut std::io::stdout()).unwrap();
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    std::thread::sleep(std::time::Duration::from_millis(n % 20));
    println!("{}", work(n) + m);
}
"#;

/// A small deterministic generator: the test is reproducible from its seed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

fn spawn_pooled(exe: &Path, cov: &Path, arg: u64) -> Child {
    Command::new(exe)
        .default_signals()
        .arg(arg.to_string())
        .env("COVDIR", cov)
        .env("COVWRAP_MERGE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_ready(child: &mut Child) {
    use std::io::BufRead;
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.as_mut().unwrap());
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
}

/// (runs summed over every counter file, marker executions, counter
/// files) of `cov`, which holds nothing but coverage files, the lock file
/// and temporary files writers killed mid-write left behind.
fn tally(cov: &Path) -> (u64, u64, usize) {
    let dir = CovDir::read(cov);
    for name in &dir.others {
        assert!(
            name.starts_with(".covlock.") || name.starts_with(".covtmp."),
            "unexpected file {name}"
        );
    }
    let runs = dir
        .counter_files()
        .map(|f| u64::from(f.header().runs))
        .sum();
    let (_, marker) = runs_and_executions(cov, "6marker");
    (runs, marker, dir.counters.len())
}

#[test]
fn pooled_runs_are_all_counted_once_even_when_terminated() {
    let p = Project::bin("pooled", POOLED, "");
    p.cargo(&["build"]);
    let exe = p.exe("debug", "pooled");
    let cov = scratch("pool-term");
    let mut rng = Lcg(0x5eed);
    let mut children: Vec<Child> = (0..120)
        .map(|i| spawn_pooled(&exe, &cov, 1000 + i))
        .collect();
    // SIGTERM every third one at a random moment after it started main:
    // before, during or after its merge. Each must be counted exactly once.
    for victim in children.iter_mut().step_by(3) {
        wait_ready(victim);
        std::thread::sleep(Duration::from_micros(rng.next(20_000)));
        send_signal(victim.id(), SIGTERM);
    }
    for c in &mut children {
        let status = wait_with_timeout(c, Duration::from_secs(60));
        assert!(
            status.success() || signal_of(status) == Some(15),
            "{status:?}"
        );
        let mut err = String::new();
        std::io::Read::read_to_string(c.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(!err.contains("covwrap"), "{err}");
    }
    let (runs, marker, files) = tally(&cov);
    assert_eq!(runs, 120, "every run counted once");
    assert_eq!(marker, 120, "the counts agree with the run count");
    assert!(
        files < 120,
        "the pool absorbed the normal exits ({files} files)"
    );
}

#[test]
fn pooled_runs_killed_at_random_never_corrupt_or_double_count() {
    let p = Project::bin("pooled", POOLED, "");
    p.cargo(&["build"]);
    let exe = p.exe("debug", "pooled");
    let cov = scratch("pool-kill");
    let mut rng = Lcg(0xdead_beef);
    let mut children: Vec<Child> = (0..120)
        .map(|i| spawn_pooled(&exe, &cov, 1000 + i))
        .collect();
    for _ in 0..40 {
        std::thread::sleep(Duration::from_micros(rng.next(3000)));
        let victim = rng.next(children.len() as u64) as usize;
        send_signal(children[victim].id(), SIGKILL);
    }
    let mut completed = 0;
    for c in &mut children {
        let status = wait_with_timeout(c, Duration::from_secs(60));
        if status.success() {
            completed += 1;
        } else {
            assert_eq!(signal_of(status), Some(9), "{status:?}");
        }
    }
    let (runs, marker, _) = tally(&cov);
    // A SIGKILLed run is lost unless it had already merged; nothing is
    // torn (tally parses every file) and nothing is counted twice.
    assert!(
        runs >= completed && runs <= 120,
        "{runs} runs, {completed} completed"
    );
    assert_eq!(marker, runs);
}
