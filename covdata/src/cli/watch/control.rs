//! What steers the loop from outside: SIGTERM and SIGINT (stop after the
//! current round's writes), SIGUSR1 (pause) and SIGUSR2 (resume, and start
//! a round at once). A thread of its own waits for the signals with tokio's
//! handlers, installed before the first round, and sets flags the loop
//! reads between steps; sleeps between rounds end early on a stop or a
//! resume.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// Shared by the loop and the signal thread.
#[derive(Debug, Default)]
pub struct Control {
    flags: Mutex<Flags>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Flags {
    /// The signal that asked to stop.
    stop: Option<&'static str>,
    /// Paused by SIGUSR1 (until SIGUSR2).
    paused: bool,
    /// SIGUSR2s seen, so a sleep notices one.
    resumes: u64,
}

impl Control {
    /// Installs the signal handlers and returns once they are in place.
    pub fn install() -> anyhow::Result<Arc<Control>> {
        let control = Arc::new(Control::default());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let shared = control.clone();
        std::thread::Builder::new()
            .name("covdata-watch-signals".into())
            .spawn(move || listen(shared, ready_tx))
            .context("cannot start the signal thread")?;
        ready_rx
            .recv()
            .context("the signal thread ended before installing its handlers")??;
        Ok(control)
    }

    fn flags(&self) -> std::sync::MutexGuard<'_, Flags> {
        self.flags.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The signal that asked to stop, if one did.
    pub fn stop_signal(&self) -> Option<&'static str> {
        self.flags().stop
    }

    /// Whether a stop was asked for.
    pub fn stopping(&self) -> bool {
        self.stop_signal().is_some()
    }

    /// Whether SIGUSR1 paused the loop (and no SIGUSR2 resumed it since).
    pub fn paused(&self) -> bool {
        self.flags().paused
    }

    /// Sleeps until `deadline`, a stop, or a resume (SIGUSR2).
    pub fn sleep_until(&self, deadline: Instant) {
        let mut flags = self.flags();
        let resumes = flags.resumes;
        loop {
            let now = Instant::now();
            if flags.stop.is_some() || flags.resumes != resumes || now >= deadline {
                return;
            }
            flags = self
                .changed
                .wait_timeout(flags, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Sleeps for `d` unless a stop comes first; whether it was not stopped.
    pub fn nap(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        let mut flags = self.flags();
        while flags.stop.is_none() {
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            flags = self
                .changed
                .wait_timeout(flags, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        false
    }

    fn update(&self, f: impl FnOnce(&mut Flags)) {
        f(&mut self.flags());
        self.changed.notify_all();
    }
}

/// The signal thread: a small tokio runtime that only waits for signals.
fn listen(control: Arc<Control>, ready: std::sync::mpsc::Sender<anyhow::Result<()>>) {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(anyhow::anyhow!("cannot start the signal runtime: {e}")));
            return;
        }
    };
    rt.block_on(async move {
        let streams = (|| {
            Ok::<_, std::io::Error>((
                signal(SignalKind::terminate())?,
                signal(SignalKind::interrupt())?,
                signal(SignalKind::user_defined1())?,
                signal(SignalKind::user_defined2())?,
            ))
        })();
        let (mut term, mut int, mut usr1, mut usr2) = match streams {
            Ok(s) => s,
            Err(e) => {
                let _ = ready.send(Err(anyhow::anyhow!("cannot install signal handlers: {e}")));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        loop {
            tokio::select! {
                _ = term.recv() => control.update(|f| { f.stop.get_or_insert("SIGTERM"); }),
                _ = int.recv() => control.update(|f| { f.stop.get_or_insert("SIGINT"); }),
                _ = usr1.recv() => control.update(|f| f.paused = true),
                _ = usr2.recv() => control.update(|f| {
                    f.paused = false;
                    f.resumes += 1;
                }),
            }
        }
    });
}
