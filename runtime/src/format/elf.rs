//! Just enough ELF to find named sections by file offset, for reading an
//! instrumented binary's coverage sections (some of which are not loaded into
//! memory, so they must come from the file). Little-endian ELF32 and ELF64.
//! Every offset and size is checked against the file length before use.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::error::{ErrorKind, FormatError, Result};

/// Random access to the bytes of a file or buffer.
pub trait ReadAt {
    /// Total length.
    fn len(&self) -> u64;
    /// Fills `buf` from `offset`; fails if that range is not all present.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;
    /// True when empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReadAt for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|e| *e <= self.len() as u64);
        let Some(end) = end else {
            return Err(FormatError::truncated(format!(
                "read past the end at offset {offset}"
            )));
        };
        buf.copy_from_slice(&self[offset as usize..end as usize]);
        Ok(())
    }
}

/// A file plus its length, read with `pread`.
pub struct FileReader {
    file: File,
    len: u64,
}

impl FileReader {
    /// Wraps an open file.
    pub fn new(file: File) -> Result<Self> {
        let len = file.metadata()?.len();
        Ok(FileReader { file, len })
    }
}

impl ReadAt for FileReader {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if offset
            .checked_add(buf.len() as u64)
            .is_none_or(|e| e > self.len)
        {
            return Err(FormatError::truncated(format!(
                "read past the end at offset {offset}"
            )));
        }
        self.file.read_exact_at(buf, offset)?;
        Ok(())
    }
}

/// `sh_type` of sections with no bytes in the file.
const SHT_NOBITS: u32 = 8;
/// `sh_type` of note sections.
pub const SHT_NOTE: u32 = 7;

/// One section header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Section name.
    pub name: String,
    /// `sh_type`.
    pub kind: u32,
    /// `sh_addr`: load address, 0 for sections not loaded.
    pub addr: u64,
    /// `sh_offset`: position in the file.
    pub offset: u64,
    /// `sh_size`.
    pub size: u64,
}

/// The parts of an ELF file covwrap needs.
#[derive(Clone, Debug)]
pub struct Elf {
    /// True for ELF64.
    pub is_64: bool,
    /// `e_machine`.
    pub machine: u16,
    /// Every section header, in file order.
    pub sections: Vec<Section>,
}

impl Elf {
    /// Reads the header and section headers of `r`.
    pub fn parse(r: &(impl ReadAt + ?Sized)) -> Result<Elf> {
        let mut ident = [0u8; 16];
        if r.len() < 16 {
            return Err(FormatError::new(
                ErrorKind::BadMagic,
                "not an ELF file (too short)",
            ));
        }
        r.read_at(0, &mut ident)?;
        if &ident[..4] != b"\x7fELF" {
            return Err(FormatError::new(ErrorKind::BadMagic, "not an ELF file"));
        }
        let is_64 = match ident[4] {
            1 => false,
            2 => true,
            c => return Err(FormatError::corrupt(format!("unknown ELF class {c}"))),
        };
        if ident[5] != 1 {
            return Err(FormatError::new(
                ErrorKind::Unsupported,
                "big-endian ELF files are not supported",
            ));
        }
        let header_len = if is_64 { 64 } else { 52 };
        let mut h = [0u8; 64];
        r.read_at(0, &mut h[..header_len])?;
        let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4"));
        let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8"));
        let machine = u16_at(&h, 18);
        let (shoff, shentsize, mut shnum, mut shstrndx) = if is_64 {
            (
                u64_at(&h, 40),
                u16_at(&h, 58),
                u64::from(u16_at(&h, 60)),
                u32::from(u16_at(&h, 62)),
            )
        } else {
            (
                u64::from(u32_at(&h, 32)),
                u16_at(&h, 46),
                u64::from(u16_at(&h, 48)),
                u32::from(u16_at(&h, 50)),
            )
        };
        let want_entsize = if is_64 { 64 } else { 40 };
        if shoff == 0 {
            return Err(FormatError::corrupt("ELF file has no section headers"));
        }
        if usize::from(shentsize) != want_entsize {
            return Err(FormatError::corrupt(format!(
                "section header size {shentsize}"
            )));
        }
        let read_header = |i: u64| -> Result<[u8; 64]> {
            let mut b = [0u8; 64];
            let off = i
                .checked_mul(u64::from(shentsize))
                .and_then(|o| o.checked_add(shoff));
            let off = off.ok_or_else(|| FormatError::corrupt("section header offset overflows"))?;
            r.read_at(off, &mut b[..want_entsize])?;
            Ok(b)
        };
        // Extended numbering: counts that do not fit live in section 0.
        if shnum == 0 || shstrndx == 0xffff {
            let zero = read_header(0)?;
            if shnum == 0 {
                shnum = if is_64 {
                    u64_at(&zero, 32)
                } else {
                    u64::from(u32_at(&zero, 20))
                };
            }
            if shstrndx == 0xffff {
                shstrndx = if is_64 {
                    u32_at(&zero, 44)
                } else {
                    u32_at(&zero, 28)
                };
            }
        }
        if shnum.saturating_mul(u64::from(shentsize)) > r.len() {
            return Err(FormatError::corrupt(format!(
                "{shnum} section headers do not fit in the file"
            )));
        }
        let mut raw = Vec::with_capacity(shnum as usize);
        for i in 0..shnum {
            let b = read_header(i)?;
            let s = if is_64 {
                (
                    u32_at(&b, 0),
                    u32_at(&b, 4),
                    u64_at(&b, 16),
                    u64_at(&b, 24),
                    u64_at(&b, 32),
                )
            } else {
                let w = |o| u64::from(u32_at(&b, o));
                (u32_at(&b, 0), u32_at(&b, 4), w(12), w(16), w(20))
            };
            raw.push(s);
        }
        let strtab = raw.get(shstrndx as usize).ok_or_else(|| {
            FormatError::corrupt(format!("section name table index {shstrndx} out of range"))
        })?;
        let names = read_range(r, strtab.3, strtab.4, "section names")?;
        let sections = raw
            .iter()
            .map(|&(name_off, kind, addr, offset, size)| {
                let start = name_off as usize;
                let name = names.get(start..).unwrap_or(&[]);
                let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                Section {
                    name: String::from_utf8_lossy(&name[..end]).into_owned(),
                    kind,
                    addr,
                    offset,
                    size,
                }
            })
            .collect();
        Ok(Elf {
            is_64,
            machine,
            sections,
        })
    }

    /// The first section called `name`.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The contents of `section`; empty for sections without file bytes.
    pub fn read(&self, r: &(impl ReadAt + ?Sized), section: &Section) -> Result<Vec<u8>> {
        if section.kind == SHT_NOBITS {
            return Ok(Vec::new());
        }
        read_range(r, section.offset, section.size, &section.name)
    }

    /// A name for `machine`, as Rust's `std::env::consts::ARCH` spells it.
    pub fn machine_name(&self) -> String {
        match self.machine {
            3 => "x86".into(),
            8 => "mips".into(),
            20 => "powerpc".into(),
            21 => "powerpc64".into(),
            40 => "arm".into(),
            62 => "x86_64".into(),
            183 => "aarch64".into(),
            243 => if self.is_64 { "riscv64" } else { "riscv32" }.into(),
            258 => "loongarch64".into(),
            other => format!("elf-machine-{other}"),
        }
    }
}

fn read_range(r: &(impl ReadAt + ?Sized), offset: u64, size: u64, what: &str) -> Result<Vec<u8>> {
    if offset.checked_add(size).is_none_or(|e| e > r.len()) {
        return Err(FormatError::truncated(format!(
            "{what}: {size} bytes at offset {offset} are past the end of the file"
        )));
    }
    let mut buf = vec![0u8; size as usize];
    r.read_at(offset, &mut buf)?;
    Ok(buf)
}

/// The descriptor of the first `NT_GNU_BUILD_ID` note in `notes` (the bytes
/// of a note section).
pub fn gnu_build_id(notes: &[u8]) -> Option<&[u8]> {
    let mut pos = 0usize;
    let align4 = |n: usize| n.checked_add(3).map(|n| n & !3);
    while pos.checked_add(12)? <= notes.len() {
        let word = |o: usize| u32::from_le_bytes(notes[o..o + 4].try_into().expect("4")) as usize;
        let (namesz, descsz, kind) = (word(pos), word(pos + 4), word(pos + 8));
        let name_start = pos + 12;
        let desc_start = name_start.checked_add(align4(namesz)?)?;
        let desc_end = desc_start.checked_add(descsz)?;
        if desc_end > notes.len() {
            return None;
        }
        if kind == 3 && notes.get(name_start..name_start + namesz)? == b"GNU\0" {
            return Some(&notes[desc_start..desc_end]);
        }
        pos = desc_start.checked_add(align4(descsz)?)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_running_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let r = FileReader::new(File::open(exe).unwrap()).unwrap();
        let elf = Elf::parse(&r).unwrap();
        assert!(elf.is_64);
        assert_eq!(elf.machine_name(), std::env::consts::ARCH);
        let text = elf.section(".text").expect(".text");
        assert!(text.size > 0);
        let comment = elf.section(".comment").expect(".comment");
        let bytes = elf.read(&r, comment).unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("rustc"));
    }

    #[test]
    fn rejects_non_elf_and_truncated_elf() {
        assert_eq!(
            Elf::parse(&b"hello world, not elf"[..]).unwrap_err().kind(),
            &ErrorKind::BadMagic
        );
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        for len in [16, 63, 64, 4096] {
            assert!(
                Elf::parse(&exe[..len]).is_err(),
                "{len}-byte prefix accepted"
            );
        }
    }

    #[test]
    fn finds_build_id_note() {
        let mut note = Vec::new();
        for w in [4u32, 3, 3] {
            note.extend_from_slice(&w.to_le_bytes());
        }
        note.extend_from_slice(b"GNU\0\x01\x02\x03\0");
        assert_eq!(gnu_build_id(&note), Some(&[1u8, 2, 3][..]));
        assert_eq!(gnu_build_id(&note[..15]), None);
    }
}
