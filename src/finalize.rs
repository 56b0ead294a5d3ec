//! After linking: fill the runtime's slot in each linked output with H, so
//! that a run of the binary needs one `stat` to know whether its meta file
//! exists, instead of hashing its own coverage mapping.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::{Context, Result};
use covwrap_rt::format::elf::FileReader;
use covwrap_rt::format::from_elf::{build_meta, find_slot, slot_contents};
use covwrap_rt::format::md5::hex;
use covwrap_rt::format::ErrorKind;

/// Fills the slot of `output` if it has one (it holds the runtime, i.e.
/// instrumented code); returns H in hex.
pub fn fill_slot(output: &Path) -> Result<Option<String>> {
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
    let (_, hash) = meta.encode();
    file.write_all_at(&slot_contents(&hash), offset)
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(Some(hex(&hash)))
}
