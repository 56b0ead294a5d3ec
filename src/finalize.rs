//! After linking: fill the runtime's slot in each linked output with H, so
//! that a run of the binary needs one `stat` to know whether its meta file
//! exists, instead of hashing its own coverage mapping.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::{Context, Result};
use covwrap_rt::format::defs::ident_keys;
use covwrap_rt::format::elf::FileReader;
use covwrap_rt::format::from_elf::{build_meta, find_slot, slot_contents, SlotInfo};
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::ErrorKind;

/// Fills the slot of `output` if it has one (it holds the runtime, i.e.
/// instrumented code) with H, the link time and `target` (the `target-*`
/// ident pairs); returns H in hex.
pub fn fill_slot(output: &Path, target: Vec<(String, String)>) -> Result<Option<String>> {
    let file = match OpenOptions::new().read(true).write(true).open(output) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", output.display())),
    };
    let reader = FileReader::new(file.try_clone()?)?;
    let Some(offset) = find_slot(&reader).with_context(|| format!("{}", output.display()))? else {
        return Ok(None);
    };
    let meta = match build_meta(&reader) {
        Ok(meta) => meta,
        // The runtime came with an instrumented library none of whose code
        // was linked in; the runtime stays inactive in such a binary.
        Err(e) if *e.kind() == ErrorKind::NotInstrumented => return Ok(None),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot describe {} for coverage", output.display()))
        }
    };
    let mut meta = meta;
    // A slot filled before (the same file finalized twice) is read back by
    // build_meta; what goes into the slot now replaces it.
    let target_keys = [
        ident_keys::TARGET_KIND,
        ident_keys::TARGET_CRATE,
        ident_keys::TARGET_PACKAGE,
        ident_keys::TARGET_ROOT,
    ];
    meta.ident
        .retain(|(k, _)| !target_keys.contains(&k.as_str()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .ok();
    let wanted = SlotInfo {
        build_time_ns: now,
        target,
    };
    // H must be computed from what fits the slot, as a run reads it back.
    let (_, info) = slot_contents(&[0; 16], &wanted);
    info.apply(&mut meta);
    let (_, hash) = meta.encode();
    let (slot, _) = slot_contents(&hash, &info);
    file.write_all_at(&slot, offset)
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(Some(hex(&hash)))
}
