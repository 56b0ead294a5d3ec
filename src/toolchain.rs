//! Can this toolchain produce what covwrap reads? Checked before anything is
//! built, so an unsupported toolchain fails the build with one clear line
//! instead of producing binaries without coverage.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// LLVM majors whose raw-profile data layout (version 10) and coverage
/// mapping (version 7) covwrap reads: rustc 1.82 through at least 1.98.
pub const LLVM_SUPPORTED: std::ops::RangeInclusive<u32> = 19..=22;

/// Checks the `rustc -vV` text.
pub fn check_version(verbose_version: &str) -> Result<()> {
    let field = |key: &str| {
        verbose_version
            .lines()
            .find_map(|l| l.strip_prefix(key).map(str::trim))
            .unwrap_or("unknown")
    };
    let release = field("release:");
    let llvm = field("LLVM version:");
    let major: Option<u32> = llvm.split('.').next().and_then(|m| m.parse().ok());
    match major {
        Some(m) if LLVM_SUPPORTED.contains(&m) => Ok(()),
        Some(m) if m < *LLVM_SUPPORTED.start() => bail!(
            "rustc {release} uses LLVM {llvm}, whose coverage formats covwrap does not read; \
             use rustc 1.82 or newer (LLVM {}-{})",
            LLVM_SUPPORTED.start(),
            LLVM_SUPPORTED.end()
        ),
        Some(_) => bail!(
            "rustc {release} uses LLVM {llvm}, newer than this covwrap {} supports (LLVM {}-{}); \
             upgrade covwrap or use an older toolchain",
            covwrap_rt::VERSION,
            LLVM_SUPPORTED.start(),
            LLVM_SUPPORTED.end()
        ),
        None => bail!("rustc {release} reports no LLVM version (another codegen backend?); covwrap needs LLVM's coverage"),
    }
}

/// Checks that the sysroot has `profiler_builtins` for `target`, which
/// `-C instrument-coverage` links: source-built toolchains often lack it.
pub fn check_profiler_runtime(
    rustc: &Path,
    target: Option<&str>,
    sysroot: Option<&str>,
) -> Result<()> {
    let mut cmd = Command::new(rustc);
    cmd.args(["--print", "sysroot"]);
    if let Some(s) = sysroot {
        cmd.args(["--sysroot", s]);
    }
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", rustc.display()))?;
    let root = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let target = match target {
        Some(t) => t.to_string(),
        None => host_triple(rustc)?,
    };
    let mut cfg = Command::new(rustc);
    cfg.args(["--print", "cfg", "--target", &target]);
    if let Some(s) = sysroot {
        cfg.args(["--sysroot", s]);
    }
    let cfg = cfg
        .output()
        .with_context(|| format!("cannot run {}", rustc.display()))?;
    check_target_cfg(&target, &String::from_utf8_lossy(&cfg.stdout))?;
    let lib = Path::new(&root)
        .join("lib/rustlib")
        .join(&target)
        .join("lib");
    let found = std::fs::read_dir(&lib)
        .map(|d| {
            d.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("libprofiler_builtins-")
            })
        })
        .unwrap_or(false);
    if !found {
        bail!(
            "the toolchain of {} has no profiler runtime (profiler_builtins) for {target}, so it cannot build \
             coverage-instrumented code; use a rustup toolchain (`rustup target add {target}`) or build rustc \
             with `build.profiler = true`",
            rustc.display()
        );
    }
    Ok(())
}

/// Checks `rustc --print cfg` of `target`: counters are 64-bit and the
/// runtime reads and resets them atomically, which is exact only where
/// the increments rustc emits are themselves atomic, that is on targets
/// with 64-bit pointers and 64-bit atomics.
pub fn check_target_cfg(target: &str, cfg: &str) -> Result<()> {
    let has = |line: &str| cfg.lines().any(|l| l.trim() == line);
    if !has(r#"target_pointer_width="64""#) || !has(r#"target_has_atomic="64""#) {
        bail!(
            "target {target} is not a 64-bit target: coverage counters are not updated atomically there, \
             so counts could be lost; covwrap supports 64-bit Linux targets only"
        );
    }
    Ok(())
}

fn host_triple(rustc: &Path) -> Result<String> {
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .with_context(|| format!("cannot run {}", rustc.display()))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host:").map(|h| h.trim().to_string()))
        .context("rustc -vV printed no host triple")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vv(llvm: &str) -> String {
        format!("rustc 1.95.0\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: {llvm}\n")
    }

    #[test]
    fn accepts_supported_llvm() {
        assert!(check_version(&vv("22.1.2")).is_ok());
        assert!(check_version(&vv("19.1.0")).is_ok());
    }

    #[test]
    fn refuses_32_bit_targets_in_one_line() {
        let x86_64 =
            "target_arch=\"x86_64\"\ntarget_has_atomic=\"64\"\ntarget_pointer_width=\"64\"\n";
        assert!(check_target_cfg("x86_64-unknown-linux-gnu", x86_64).is_ok());
        let i686 = "target_arch=\"x86\"\ntarget_has_atomic=\"64\"\ntarget_pointer_width=\"32\"\n";
        let e = check_target_cfg("i686-unknown-linux-gnu", i686)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("i686-unknown-linux-gnu") && e.contains("64-bit"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 1);
        let no_atomics = "target_pointer_width=\"64\"\n";
        assert!(check_target_cfg("odd", no_atomics).is_err());
    }

    #[test]
    fn rejects_old_new_and_missing_llvm_with_advice() {
        let old = check_version(&vv("18.1.7")).unwrap_err().to_string();
        assert!(
            old.contains("LLVM 18.1.7") && old.contains("1.82 or newer"),
            "{old}"
        );
        let new = check_version(&vv("23.0.0")).unwrap_err().to_string();
        assert!(new.contains("newer than this covwrap"), "{new}");
        assert!(check_version("rustc 1.95.0\nrelease: 1.95.0\n").is_err());
    }
}
