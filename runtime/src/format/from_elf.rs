//! Builds the covmeta file of an instrumented ELF binary.
//!
//! This is the one definition of "the meta of a binary": covwrap runs it on
//! the file it just linked (to fill the binary's slot with H), and the
//! runtime runs it on `/proc/self/exe` when the slot is empty. Everything
//! comes from the file, so both produce the same bytes: what covwrap knows
//! only at build time (the target the binary is, when it was linked) it
//! writes into the slot together with H, and the slot is read from here.

use super::defs::{ident_keys, slot, MetaHash};
use super::elf::{gnu_build_id, Elf, ReadAt, Section};
use super::error::{ErrorKind, FormatError, Result};
use super::kv;
use super::md5::hex;
use super::meta::{FuncEntry, MetaBuilder};

/// The version of covwrap that writes meta files; part of the Ident section.
pub const WRITER: &str = concat!("covwrap ", env!("CARGO_PKG_VERSION"));

/// Section names LLVM uses on ELF targets.
mod names {
    pub const DATA: &str = "__llvm_prf_data";
    pub const COUNTERS: &str = "__llvm_prf_cnts";
    pub const NAMES: &str = "__llvm_prf_names";
    pub const COVMAP: &str = "__llvm_covmap";
    pub const COVFUN: &str = "__llvm_covfun";
}

/// Builds the meta file of the instrumented binary in `r`.
pub fn build_meta(r: &(impl ReadAt + ?Sized)) -> Result<MetaBuilder> {
    let elf = Elf::parse(r)?;
    let all = [
        names::DATA,
        names::COUNTERS,
        names::NAMES,
        names::COVMAP,
        names::COVFUN,
    ];
    if all.iter().all(|name| elf.section(name).is_none()) {
        return Err(FormatError::new(
            ErrorKind::NotInstrumented,
            format!(
                "no {} section (binary not built with -C instrument-coverage?)",
                names::COVFUN
            ),
        ));
    }
    // A binary that runs none of its instrumented functions (a test harness
    // of a crate without tests) has mapping records but no counters.
    let (funcs, total_counters) = match (elf.section(names::DATA), elf.section(names::COUNTERS)) {
        (Some(data), Some(counters)) => function_table(&elf, data, &elf.read(r, data)?, counters)?,
        (None, _) => (Vec::new(), 0),
        (Some(_), None) => {
            return Err(FormatError::corrupt(format!(
                "{} without {}",
                names::DATA,
                names::COUNTERS
            )))
        }
    };
    let mut ident = vec![
        (ident_keys::MACHINE.to_string(), elf.machine_name()),
        (
            ident_keys::CLASS.to_string(),
            if elf.is_64 { "elf64" } else { "elf32" }.to_string(),
        ),
    ];
    if let Some(notes) = elf.section(".note.gnu.build-id") {
        if let Some(id) = gnu_build_id(&elf.read(r, notes)?) {
            ident.push((ident_keys::BUILD_ID.to_string(), hex(id)));
        }
    }
    if let Some(comment) = elf.section(".comment") {
        let mut producers: Vec<String> = Vec::new();
        for s in elf
            .read(r, comment)?
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
        {
            let s = String::from_utf8_lossy(s).into_owned();
            if !producers.contains(&s) {
                producers.push(s);
            }
        }
        ident.push((ident_keys::PRODUCER.to_string(), producers.join("\n")));
    }
    ident.push((ident_keys::WRITER.to_string(), WRITER.to_string()));
    let mut build_time_ns = None;
    // A slot of the earlier 32-byte layout (H only) holds nothing more.
    if let Some(s) = elf
        .section(slot::SECTION)
        .filter(|s| s.size >= slot::LEN as u64)
    {
        let bytes = elf.read(r, s)?;
        if let Some(info) = SlotInfo::decode(&bytes)? {
            ident.extend(info.target);
            build_time_ns = info.build_time_ns;
        }
    }
    let optional = |name: &str| match elf.section(name) {
        Some(s) => elf.read(r, s),
        None => Ok(Vec::new()),
    };
    let meta = MetaBuilder {
        ident,
        funcs,
        total_counters,
        names: optional(names::NAMES)?,
        covmap: optional(names::COVMAP)?,
        covfun: optional(names::COVFUN)?,
        build_time_ns,
    };
    // Every counter is referenced by the coverage mapping, a byte at
    // least each; readers reject a meta file with more counters than bytes.
    let mapping_len = meta.names.len() + meta.covmap.len() + meta.covfun.len();
    if u64::from(total_counters) > mapping_len as u64 {
        return Err(FormatError::corrupt(format!(
            "{} holds {total_counters} counters, more than the {mapping_len} bytes of coverage mapping",
            names::COUNTERS
        )));
    }
    Ok(meta)
}

/// Reduces `__llvm_prf_data` (raw profile version 10 layout) to a function
/// table. Each record's `CounterPtr` is its counters' address minus the
/// record's own address, a link-time constant, so the file holds the value
/// the process uses.
fn function_table(
    elf: &Elf,
    data: &Section,
    bytes: &[u8],
    counters: &Section,
) -> Result<(Vec<FuncEntry>, u32)> {
    let record_len: usize = if elf.is_64 { 64 } else { 48 };
    if bytes.len() % record_len != 0 {
        return Err(FormatError::new(
            ErrorKind::Unsupported,
            format!(
                "{} is {} bytes, not a multiple of {record_len}: an LLVM raw profile layout this build does not know",
                names::DATA,
                bytes.len()
            ),
        ));
    }
    let total = counters.size / 8;
    let total_counters = u32::try_from(total)
        .map_err(|_| FormatError::new(ErrorKind::Unsupported, format!("{total} counters")))?;
    let mut funcs = Vec::with_capacity(bytes.len() / record_len);
    for (i, rec) in bytes.chunks_exact(record_len).enumerate() {
        let u64_at = |o: usize| u64::from_le_bytes(rec[o..o + 8].try_into().expect("8"));
        let u32_at = |o: usize| u32::from_le_bytes(rec[o..o + 4].try_into().expect("4"));
        let (counter_ptr, num_counters) = if elf.is_64 {
            (u64_at(16) as i64, u32_at(48))
        } else {
            (i64::from(u32_at(16) as i32), u32_at(32))
        };
        let record_addr = data.addr.wrapping_add((i * record_len) as u64);
        let byte_off = (record_addr as i128) + i128::from(counter_ptr) - (counters.addr as i128);
        let valid = byte_off >= 0
            && byte_off % 8 == 0
            && num_counters > 0
            && (byte_off / 8) + i128::from(num_counters) <= i128::from(total);
        if !valid {
            return Err(FormatError::corrupt(format!(
                "data record {i} points to counters outside {} ({num_counters} counters at byte {byte_off})",
                names::COUNTERS
            )));
        }
        funcs.push(FuncEntry {
            name_ref: u64_at(0),
            func_hash: u64_at(8),
            first_counter: (byte_off / 8) as u32,
            num_counters,
        });
    }
    Ok((funcs, total_counters))
}

/// Where the runtime's H slot lives in a binary's file, if it has one.
pub fn find_slot(r: &(impl ReadAt + ?Sized)) -> Result<Option<u64>> {
    let elf = Elf::parse(r)?;
    let Some(s) = elf.section(slot::SECTION) else {
        return Ok(None);
    };
    if (s.size as usize) < slot::LEN {
        return Err(FormatError::corrupt(format!(
            "{} is only {} bytes",
            slot::SECTION,
            s.size
        )));
    }
    let mut marker = [0u8; 16];
    r.read_at(s.offset, &mut marker)?;
    if marker != slot::UNSET && marker != slot::SET {
        return Err(FormatError::corrupt(format!(
            "{} holds an unknown marker",
            slot::SECTION
        )));
    }
    Ok(Some(s.offset))
}

/// What covwrap writes into the slot besides H: facts only the build
/// knows, which [`build_meta`] puts into the meta file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotInfo {
    /// When the binary was linked, ns since the Unix epoch.
    pub build_time_ns: Option<u64>,
    /// `target-*` ident pairs, appended to the Ident section in this order.
    pub target: Vec<(String, String)>,
}

impl SlotInfo {
    /// Adds this information to a meta built from a binary whose slot does
    /// not hold it yet, exactly as [`build_meta`] reads it back.
    pub fn apply(&self, meta: &mut MetaBuilder) {
        meta.ident.extend(self.target.iter().cloned());
        meta.build_time_ns = self.build_time_ns;
    }

    /// The information of a filled slot; `None` for an unset one.
    pub fn decode(bytes: &[u8]) -> Result<Option<SlotInfo>> {
        if bytes.len() < slot::LEN {
            return Err(FormatError::corrupt(format!(
                "{} is only {} bytes",
                slot::SECTION,
                bytes.len()
            )));
        }
        if bytes[..16] != slot::SET {
            return Ok(None);
        }
        let time = u64::from_le_bytes(
            bytes[slot::TIME_OFFSET..slot::TIME_OFFSET + 8]
                .try_into()
                .expect("8"),
        );
        let len = u32::from_le_bytes(
            bytes[slot::TARGET_LEN_OFFSET..slot::TARGET_LEN_OFFSET + 4]
                .try_into()
                .expect("4"),
        ) as usize;
        let table = bytes
            .get(slot::TARGET_OFFSET..slot::TARGET_OFFSET.saturating_add(len))
            .filter(|_| slot::TARGET_OFFSET + len <= slot::LEN)
            .ok_or_else(|| {
                FormatError::corrupt(format!("{} target table overruns it", slot::SECTION))
            })?;
        let target = if len == 0 {
            Vec::new()
        } else {
            kv::decode(table, "slot target table")?
        };
        Ok(Some(SlotInfo {
            build_time_ns: (time != 0).then_some(time),
            target,
        }))
    }
}

/// The bytes to write at the slot's offset to record `hash` and `info`.
/// Target pairs that do not fit the slot are left out, last first.
pub fn slot_contents(hash: &MetaHash, info: &SlotInfo) -> ([u8; slot::LEN], SlotInfo) {
    let mut kept = info.clone();
    let mut table = Vec::new();
    loop {
        table.clear();
        if !kept.target.is_empty() {
            kv::encode(&kept.target, &mut table);
        }
        if slot::TARGET_OFFSET + table.len() <= slot::LEN {
            break;
        }
        kept.target.pop();
    }
    let mut out = [0u8; slot::LEN];
    out[..16].copy_from_slice(&slot::SET);
    out[16..32].copy_from_slice(hash);
    out[slot::TIME_OFFSET..slot::TIME_OFFSET + 8]
        .copy_from_slice(&kept.build_time_ns.unwrap_or(0).to_le_bytes());
    out[slot::TARGET_LEN_OFFSET..slot::TARGET_LEN_OFFSET + 4]
        .copy_from_slice(&(table.len() as u32).to_le_bytes());
    out[slot::TARGET_OFFSET..slot::TARGET_OFFSET + table.len()].copy_from_slice(&table);
    (out, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_round_trip_and_overflow() {
        let info = SlotInfo {
            build_time_ns: Some(42),
            target: vec![
                ("target-kind".into(), "test".into()),
                ("target-root".into(), "x".repeat(600)),
            ],
        };
        let (bytes, kept) = slot_contents(&[7; 16], &info);
        assert_eq!(kept.target.len(), 1, "the long root does not fit");
        assert_eq!(SlotInfo::decode(&bytes).unwrap(), Some(kept));
        let mut unset = [0u8; slot::LEN];
        unset[..16].copy_from_slice(&slot::UNSET);
        assert_eq!(SlotInfo::decode(&unset).unwrap(), None);
        let mut bad = bytes;
        bad[slot::TARGET_LEN_OFFSET] = 0xff;
        bad[slot::TARGET_LEN_OFFSET + 1] = 0xff;
        assert!(SlotInfo::decode(&bad).is_err());
    }
}
