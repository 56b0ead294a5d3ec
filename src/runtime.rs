//! The runtime rlib: compiled on demand by the user's own rustc for the
//! target being built, cached per (rustc, target, covwrap and its runtime
//! sources), and placed next to the crates that use it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use anyhow::{bail, Context, Result};
use covwrap_rt::format::md5::{hex, Md5};
use covwrap_rt::sources::SOURCES;

use crate::rustc_args::RustcArgs;
use crate::settings::{runtime_sources_hash, Settings};
use crate::toolchain;

/// Crate name of the runtime in the user's crate graph.
pub const CRATE_NAME: &str = "covwrap_rt";

/// Returns the runtime rlib to pass as `--extern covwrap_rt=...`, building
/// and caching it if needed. It is placed in the crate's dependency
/// directory, because crates that merely depend on instrumented ones (and
/// rustdoc, which covwrap does not wrap) find it there through cargo's
/// `-L dependency=...`.
pub fn ensure(rustc: &Path, args: &RustcArgs, settings: &Settings) -> Result<PathBuf> {
    let key = cache_key(rustc, args)?;
    let cached = settings.cache_dir.join("runtime").join(&key);
    let rlib = cached.join(format!("lib{CRATE_NAME}.rlib"));
    if !rlib.exists() {
        build(rustc, args, &cached, &key)
            .with_context(|| format!("cannot build covwrap's runtime with {}", rustc.display()))?;
    }
    let deps = args
        .dependency_dirs
        .first()
        .or(args.out_dir.as_ref())
        .context("rustc was given neither -L dependency= nor --out-dir")?;
    let placed = deps.join(format!("lib{CRATE_NAME}-{key}.rlib"));
    if !placed.exists() {
        install_copy(&rlib, &placed)
            .with_context(|| format!("cannot place the runtime in {}", deps.display()))?;
    }
    Ok(placed)
}

/// Identifies a compatible runtime without running rustc: the rustc binary
/// (path, size, mtime), sysroot and target flags, covwrap and runtime
/// sources.
fn cache_key(rustc: &Path, args: &RustcArgs) -> Result<String> {
    let resolved = resolve_program(rustc);
    let meta =
        fs::metadata(&resolved).with_context(|| format!("cannot stat {}", resolved.display()))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    let mut h = Md5::new();
    for part in [
        resolved.to_string_lossy().as_ref(),
        &meta.len().to_string(),
        &mtime.as_nanos().to_string(),
        args.target.as_deref().unwrap_or("host"),
        args.sysroot.as_deref().unwrap_or(""),
        covwrap_rt::VERSION,
        &runtime_sources_hash(),
    ] {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    Ok(hex(&h.finish()[..8]))
}

/// A bare program name is looked up in PATH, as Command would.
fn resolve_program(program: &Path) -> PathBuf {
    if program.components().count() > 1 {
        return program.to_path_buf();
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| program.to_path_buf())
}

/// Compiles into a fresh directory, then renames it into place: of several
/// rustc processes racing to build the same runtime, one rename wins and the
/// others use its result.
fn build(rustc: &Path, args: &RustcArgs, cached: &Path, key: &str) -> Result<()> {
    toolchain::check_profiler_runtime(rustc, args.target.as_deref(), args.sysroot.as_deref())?;
    let parent = cached.parent().context("cache path has no parent")?;
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let temp = parent.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        crate::unique_suffix()
    ));
    let result =
        build_into(rustc, args, &temp, key).and_then(|()| match fs::rename(&temp, cached) {
            Ok(()) => Ok(()),
            Err(_) if cached.join(format!("lib{CRATE_NAME}.rlib")).exists() => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot rename into {}", cached.display())),
        });
    let _ = fs::remove_dir_all(&temp);
    result
}

fn build_into(rustc: &Path, args: &RustcArgs, dir: &Path, key: &str) -> Result<()> {
    for (path, text) in SOURCES {
        let file = dir.join("src").join(path);
        fs::create_dir_all(file.parent().context("source path")?)?;
        fs::write(&file, text)?;
    }
    let mut cmd = Command::new(rustc);
    cmd.args([
        "--crate-name",
        CRATE_NAME,
        "--crate-type",
        "rlib",
        "--edition",
        "2021",
    ])
    .args(["--cfg", "covwrap_embedded", "--cap-lints", "allow"])
    .args([
        "-C",
        "opt-level=2",
        "-C",
        "codegen-units=1",
        "-C",
        "debuginfo=0",
        "-C",
        "panic=unwind",
    ])
    .arg("-C")
    .arg(format!("metadata=covwrap-{key}"))
    .arg("--out-dir")
    .arg(dir)
    .arg(dir.join("src/lib.rs"))
    .env("CARGO_PKG_VERSION", covwrap_rt::VERSION)
    .env("COVWRAP_IN_RUSTC", "1");
    if let Some(t) = &args.target {
        cmd.args(["--target", t]);
    }
    if let Some(s) = &args.sysroot {
        cmd.args(["--sysroot", s]);
    }
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", rustc.display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(6)
            .collect();
        bail!("rustc failed ({}): {}", out.status, first.join(" | "));
    }
    Ok(())
}

/// Hard link (or copy) through a temporary name and rename, so concurrent
/// rustc processes never see a partial rlib.
fn install_copy(from: &Path, to: &Path) -> Result<()> {
    let temp = to.with_extension(format!("tmp{}", std::process::id()));
    let _ = fs::remove_file(&temp);
    if fs::hard_link(from, &temp).is_err() {
        fs::copy(from, &temp)?;
    }
    let renamed = fs::rename(&temp, to);
    let _ = fs::remove_file(&temp);
    Ok(renamed?)
}
