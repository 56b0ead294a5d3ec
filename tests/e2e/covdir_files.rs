//! A shared COVDIR tried as a hostile user would: symlinks and files
//! planted where the runtime and covdata write, writers SIGKILLed while
//! they hold the pool lock; and a COVDIR that does not exist yet.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::hardening::{exe, meta_hash_hex};
use crate::support::*;

#[test]
fn a_missing_covdir_is_created_private_one_level_only() {
    let base = scratch("mkdir");
    let cov = base.join("new");
    let out = run(&exe(), &[], Some(&cov));
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    let mode = fs::metadata(&cov).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert_eq!(CovDir::read(&cov).counters.len(), 1);
    // Two levels: not created, and the message says how.
    let deep = base.join("a/b");
    let out = run(&exe(), &[], Some(&deep));
    assert!(out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("a/b") && err.contains("mkdir -p"), "{err}");
    assert!(!base.join("a").exists());
}

/// A COVDIR holding what another user planted: `name` → `victim`.
fn planted(name: &str, victim: &Path) -> PathBuf {
    let cov = scratch("planted");
    fs::write(victim, "victim's data").unwrap();
    symlink(victim, cov.join(name)).unwrap();
    cov
}

fn pooled(cov: &Path) -> Output {
    Command::new(exe())
        .default_signals()
        .env("COVDIR", cov)
        .env("COVWRAP_MERGE", "1")
        .stdout(Stdio::null())
        .output()
        .unwrap()
}

fn assert_victim_untouched(victim: &Path) {
    assert_eq!(fs::read_to_string(victim).unwrap(), "victim's data");
}

#[test]
fn runtime_refuses_symlinks_planted_in_covdir() {
    let h = meta_hash_hex();
    let victim = scratch("victims").join("victim");
    // The meta file: refused with one line, nothing written through it.
    let cov = planted(&format!("covmeta.{h}"), &victim);
    let out = run(&exe(), &[], Some(&cov));
    assert!(out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("symbolic link") && err.contains(&format!("covmeta.{h}")),
        "{err}"
    );
    assert_victim_untouched(&victim);
    // The pool and its lock: the run keeps a file of its own instead.
    for name in [format!("covcounters.{h}.0.0"), format!(".covlock.{h}")] {
        let cov = planted(&name, &victim);
        let out = pooled(&cov);
        assert!(out.status.success());
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(
            err.contains("symbolic link") && err.contains("separate counter file"),
            "{err}"
        );
        assert_victim_untouched(&victim);
        let kept = fs::read_dir(&cov)
            .unwrap()
            .filter(|e| {
                let n = e
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .into_owned();
                n.starts_with("covcounters.") && !n.ends_with(".0.0")
            })
            .count();
        assert_eq!(kept, 1, "{name}: the run was kept");
        assert!(fs::symlink_metadata(cov.join(&name))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    // A dangling lock symlink is not followed to create its target.
    let cov = scratch("dangling");
    let target = cov.join("created-through-link");
    symlink(&target, cov.join(format!(".covlock.{h}"))).unwrap();
    pooled(&cov);
    assert!(!target.exists());
}

#[test]
fn runtime_survives_files_planted_in_covdir() {
    let h = meta_hash_hex();
    // A garbage pool: reported, the run kept in a file of its own.
    let cov = scratch("planted-pool");
    fs::write(cov.join(format!("covcounters.{h}.0.0")), "garbage").unwrap();
    let out = pooled(&cov);
    assert!(out.status.success());
    assert!(stderr(&out).contains("unreadable"), "{}", stderr(&out));
    assert_eq!(
        fs::read(cov.join(format!("covcounters.{h}.0.0"))).unwrap(),
        b"garbage"
    );
    // Someone else's lock file works as a lock.
    let cov = scratch("planted-lock");
    fs::write(cov.join(format!(".covlock.{h}")), "").unwrap();
    assert_eq!(stderr(&pooled(&cov)), "");
    assert!(cov.join(format!("covcounters.{h}.0.0")).exists());
    // A garbage meta file at the right name: the run writes its counters;
    // covdata names the bad file in one line.
    let cov = scratch("planted-meta");
    fs::write(cov.join(format!("covmeta.{h}")), "garbage").unwrap();
    assert!(run(&exe(), &[], Some(&cov)).status.success());
    let out = Command::new(covdata_exe())
        .arg("percent")
        .arg(format!("-i={}", cov.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("covmeta.{h}")), "{err}");
}

fn covdata(args: &[String]) -> Output {
    Command::new(covdata_exe()).args(args).output().unwrap()
}

#[test]
fn covdata_refuses_symlinks_where_it_writes_a_covdir() {
    let h = meta_hash_hex();
    let victim = scratch("cd-victims").join("victim");
    let input = scratch("cd-input");
    assert!(run(&exe(), &[], Some(&input)).status.success());
    // merge -o=OUT with a symlink at the meta file's name in OUT.
    let out_dir = planted(&format!("covmeta.{h}"), &victim);
    let out = covdata(&[
        "merge".into(),
        format!("-i={}", input.display()),
        format!("-o={}", out_dir.display()),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_victim_untouched(&victim);
    // merge --in-place through a symlinked pool or lock.
    for name in [format!("covcounters.{h}.0.0"), format!(".covlock.{h}")] {
        let cov = planted(&name, &victim);
        assert!(run(&exe(), &[], Some(&cov)).status.success());
        let out = covdata(&[
            "merge".into(),
            "--in-place".into(),
            format!("-i={}", cov.display()),
        ]);
        assert!(!out.status.success(), "{name}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.contains("symbolic link"), "{name}: {err}");
        assert_victim_untouched(&victim);
    }
    // A planted regular file at an output name is replaced, not written into.
    let out_dir = scratch("cd-planted-file");
    let planted_file = out_dir.join(format!("covmeta.{h}"));
    fs::write(&planted_file, "garbage").unwrap();
    let hard = out_dir.join("hard-link-to-planted");
    fs::hard_link(&planted_file, &hard).unwrap();
    let out = covdata(&[
        "merge".into(),
        format!("-i={}", input.display()),
        format!("-o={}", out_dir.display()),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read(&hard).unwrap(),
        b"garbage",
        "written by rename, not in place"
    );
    fs::remove_file(&hard).unwrap();
    CovDir::read(&out_dir).assert_clean();
}

/// Pool temp files of `cov` (`.covtmp.covcounters.<H>.0.0.*`).
fn pool_temps(cov: &Path) -> Vec<String> {
    let prefix = format!(".covtmp.covcounters.{}.0.0.", meta_hash_hex());
    fs::read_dir(cov)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

/// Pooled writers SIGKILLed at random until one dies holding the lock with
/// its temp file created (bounded); returns whether one did.
fn kill_writers_until_a_temp_is_left(cov: &Path) -> bool {
    for round in 0..60u64 {
        let children: Vec<_> = (0..8)
            .map(|_| {
                Command::new(exe())
                    .default_signals()
                    .env("COVDIR", cov)
                    .env("COVWRAP_MERGE", "1")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_micros(500 + (round * 397) % 4000));
        for mut c in children {
            send_signal(c.id(), SIGKILL);
            c.wait().unwrap();
        }
        if !pool_temps(cov).is_empty() {
            return true;
        }
    }
    false
}

/// Leaves pool temp files in `cov` as dead writers do: one from a writer
/// SIGKILLed holding the lock, if that happens within the bound (returned),
/// and one from a writer killed long ago (its pid since reused).
fn leave_stale_pool_temps(cov: &Path, h: &str) -> bool {
    let killed = kill_writers_until_a_temp_is_left(cov);
    eprintln!("a SIGKILLed writer left a pool temp file: {killed}");
    fs::write(
        cov.join(format!(".covtmp.covcounters.{h}.0.0.1.0000000000000000")),
        "",
    )
    .unwrap();
    killed
}

#[test]
fn temp_files_of_writers_killed_holding_the_pool_lock_are_cleaned_up() {
    let h = meta_hash_hex();
    // The next pooled writer cleans up.
    let cov = scratch("stale-runtime");
    let killed = leave_stale_pool_temps(&cov, h);
    assert!(pooled(&cov).status.success());
    assert_eq!(
        pool_temps(&cov),
        Vec::<String>::new(),
        "killed mid-write: {killed}"
    );
    // And so does merge --in-place.
    let cov = scratch("stale-compact");
    let killed = leave_stale_pool_temps(&cov, h);
    assert!(run(&exe(), &[], Some(&cov)).status.success());
    let out = covdata(&[
        "merge".into(),
        "--in-place".into(),
        format!("-i={}", cov.display()),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        pool_temps(&cov),
        Vec::<String>::new(),
        "killed mid-write: {killed}"
    );
}
