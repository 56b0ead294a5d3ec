//! bench/agent_load.rs: a closed-loop HTTP load generator for bench/agent.sh
//! (std only; compiled with `rustc -O`). Usage:
//!
//!     agent_load ADDR PATH CONNECTIONS SECONDS
//!
//! CONNECTIONS threads each send `GET PATH` on a fresh connection (the
//! example service closes every connection), wait for the whole answer and
//! go again, for SECONDS. Prints one latency in microseconds per line on
//! stdout; failures go to stderr and make the exit status 1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: agent_load ADDR PATH CONNECTIONS SECONDS");
        std::process::exit(2);
    }
    let addr = args[1].clone();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n",
        args[2]
    );
    let connections: usize = args[3].parse().expect("CONNECTIONS");
    let seconds: f64 = args[4].parse().expect("SECONDS");
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (addr, request) = (addr.clone(), request.clone());
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut failures = 0u64;
                let mut answer = Vec::with_capacity(512);
                while Instant::now() < end {
                    let start = Instant::now();
                    let ok = (|| {
                        let mut s = TcpStream::connect(&addr)?;
                        s.set_nodelay(true)?;
                        s.write_all(request.as_bytes())?;
                        answer.clear();
                        s.read_to_end(&mut answer)?;
                        Ok::<bool, std::io::Error>(answer.starts_with(b"HTTP/1.1 200"))
                    })();
                    match ok {
                        Ok(true) => latencies.push(start.elapsed().as_micros() as u64),
                        _ => failures += 1,
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut out = String::new();
    let mut failures = 0;
    for w in workers {
        let (l, f) = w.join().unwrap();
        failures += f;
        for us in l {
            out.push_str(&us.to_string());
            out.push('\n');
        }
    }
    std::io::stdout().write_all(out.as_bytes()).unwrap();
    if failures > 0 {
        eprintln!("agent_load: {failures} failed requests");
        std::process::exit(1);
    }
}
