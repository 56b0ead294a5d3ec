//! Every on-disk constant of covwrap's two file kinds, in one place.
//!
//! docs/FORMAT.md is the specification; this module is its executable
//! counterpart. All integers are little-endian. Offsets are in bytes.
//!
//! ```text
//! covmeta.<H>                                  covcounters.<H>.<pid>.<nanotime>
//! +----------------------------------+        +----------------------------------+
//! | 0  magic  89 'C' 'W' 'M' 0D 0A 1A 0A |    | 0  magic  89 'C' 'W' 'C' 0D 0A 1A 0A |
//! | 8  version u32 (1)               |        | 8  version u32 (1)               |
//! | 12 flags u32 (0)                 |        | 12 flags u32                     |
//! | 16 H: MD5 of the file, this      |        | 16 H of the meta file            |
//! |    field read as zeros           |        | 32 pid u64                       |
//! | 32 file length u64               |        | 40 start time ns u64             |
//! | 40 section count u32 (N)         |        | 48 write time ns u64             |
//! | 44 reserved u32 (0)              |        | 56 counter count u32             |
//! | 48 N x {kind u32, module u32,    |        | 60 end u32 (exit/signal/...)     |
//! |         offset u64, length u64}  |        | 64 args length u32 (A)           |
//! | .. sections, each 8-aligned      |        | 68 runs u32                      |
//! +----------------------------------+        | 72 args (A bytes), pad to 8      |
//!                                             | .. {ULEB delta, ULEB value}...,  |
//!                                             |    ULEB 0 ends the list          |
//!                                             | -16 footer: length u64,          |
//!                                             |     CRC-32 u32, 'C' 'W' 'C' 'E'  |
//!                                             +----------------------------------+
//! ```

/// First 8 bytes of a covmeta file. The high byte, CR LF and ^Z catch
/// transfers that mangle binary files, as PNG's signature does.
pub const META_MAGIC: [u8; 8] = *b"\x89CWM\r\n\x1a\n";
/// First 8 bytes of a covcounters file.
pub const COUNTERS_MAGIC: [u8; 8] = *b"\x89CWC\r\n\x1a\n";
/// Last 4 bytes of a covcounters file.
pub const COUNTERS_END_MAGIC: [u8; 4] = *b"CWCE";

/// Version written into covmeta files. Version 2 adds the optional
/// build-time section ([`BUILD_TIME_SECTION`]), which H does not cover;
/// readers accept versions [`META_MIN_VERSION`] to this one.
pub const META_VERSION: u32 = 2;
/// The oldest covmeta version readers accept (version 1: no build time).
pub const META_MIN_VERSION: u32 = 1;
/// Version written into and accepted from covcounters files.
pub const COUNTERS_VERSION: u32 = 1;

/// Size of the fixed covmeta header, before the section table.
pub const META_HEADER_LEN: usize = 48;
/// Size of one covmeta section-table entry.
pub const META_SECTION_ENTRY_LEN: usize = 24;
/// Offset and length of the content hash inside the covmeta header.
pub const META_HASH_RANGE: std::ops::Range<usize> = 16..32;

/// Size of the fixed covcounters header, before the args.
pub const COUNTERS_HEADER_LEN: usize = 72;
/// Size of the covcounters footer.
pub const COUNTERS_FOOTER_LEN: usize = 16;

/// Length of the content hash H in bytes (MD5).
pub const HASH_LEN: usize = 16;
/// The content hash that names a meta file and ties counter files to it.
pub type MetaHash = [u8; HASH_LEN];

/// Kinds of covmeta sections. Readers skip kinds they do not know, so new
/// kinds can be added without a version bump; a duplicate kind is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum SectionKind {
    /// Build identity: key/value strings (see [`ident_keys`]).
    Ident = 1,
    /// Function table derived from `__llvm_prf_data` (see [`FUNC_ENTRY_LEN`]).
    Funcs = 2,
    /// `__llvm_prf_names`, verbatim.
    LlvmNames = 3,
    /// `__llvm_covmap`, verbatim.
    LlvmCovmap = 4,
    /// `__llvm_covfun`, verbatim.
    LlvmCovfun = 5,
}

impl SectionKind {
    /// Every kind this version knows, in the order writers emit them.
    pub const ALL: [SectionKind; 5] = [
        SectionKind::Ident,
        SectionKind::Funcs,
        SectionKind::LlvmNames,
        SectionKind::LlvmCovmap,
        SectionKind::LlvmCovfun,
    ];

    /// The kind for a raw section-table value, if this version knows it.
    pub fn from_u32(raw: u32) -> Option<SectionKind> {
        SectionKind::ALL.iter().copied().find(|k| *k as u32 == raw)
    }

    /// Human name, used in errors and dumps.
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Ident => "ident",
            SectionKind::Funcs => "funcs",
            SectionKind::LlvmNames => "llvm-names",
            SectionKind::LlvmCovmap => "llvm-covmap",
            SectionKind::LlvmCovfun => "llvm-covfun",
        }
    }
}

/// Section kind of a module's build time (covmeta version 2): 8 bytes, the
/// time the binary was linked in ns since the Unix epoch. Optional, at
/// most one per module, and the only bytes H does not cover (read as
/// zeros), so two identical builds made at different times share one meta
/// file. Not in [`SectionKind`]: that enum lists the kinds every module
/// must have.
pub const BUILD_TIME_SECTION: u32 = 6;
/// Length of the build-time section.
pub const BUILD_TIME_LEN: usize = 8;

/// The Funcs section starts with `count u32, total counters u32`, then
/// `count` entries of `NameRef u64, FuncHash u64, first counter u32,
/// counter count u32`, in `__llvm_prf_data` order.
pub const FUNCS_HEADER_LEN: usize = 8;
/// Size of one Funcs entry.
pub const FUNC_ENTRY_LEN: usize = 24;

/// Keys of the Ident section. Values are UTF-8 strings.
pub mod ident_keys {
    /// ELF machine of the instrumented binary, e.g. `x86_64`.
    pub const MACHINE: &str = "machine";
    /// ELF class, `elf64` or `elf32`.
    pub const CLASS: &str = "class";
    /// GNU build-id in lowercase hex, when the binary has one.
    pub const BUILD_ID: &str = "build-id";
    /// The binary's `.comment` strings (compiler and linker), one per line.
    pub const PRODUCER: &str = "producer";
    /// `covwrap <version>` that wrote the file.
    pub const WRITER: &str = "writer";
    /// The cargo target the binary is (see [`super::target_kinds`]), as
    /// covwrap learned it when it linked the binary.
    pub const TARGET_KIND: &str = "target-kind";
    /// The crate name of that target (`--crate-name`).
    pub const TARGET_CRATE: &str = "target-crate";
    /// The package of that target (`CARGO_PKG_NAME`).
    pub const TARGET_PACKAGE: &str = "target-package";
    /// The target's crate root as cargo gave it to rustc (relative to
    /// rustc's working directory, the compilation directory).
    pub const TARGET_ROOT: &str = "target-root";
}

/// Values of [`ident_keys::TARGET_KIND`].
pub mod target_kinds {
    /// A `[[bin]]` target.
    pub const BIN: &str = "bin";
    /// A shared library (`cdylib`, `dylib`).
    pub const LIB: &str = "lib";
    /// The unit-test harness of a lib or bin target (`--test`).
    pub const UNIT_TEST: &str = "unit-test";
    /// The unit-test harness of a proc-macro crate.
    pub const PROC_MACRO_TEST: &str = "proc-macro-test";
    /// An integration test (`tests/`).
    pub const TEST: &str = "test";
    /// A benchmark (`benches/`).
    pub const BENCH: &str = "bench";
    /// An example (`examples/`).
    pub const EXAMPLE: &str = "example";
}

/// Keys of the args table in a counter file. `argv` repeats, in order.
pub mod arg_keys {
    /// One program argument; repeated in argument order.
    pub const ARGV: &str = "argv";
    /// Path of the running executable.
    pub const EXE: &str = "exe";
    /// `std::env::consts::OS` of the process.
    pub const OS: &str = "os";
    /// `std::env::consts::ARCH` of the process.
    pub const ARCH: &str = "arch";
    /// Who the run was (docs/FORMAT.md: `COVWRAP_LABEL`, or the test a
    /// runner ran in the process).
    pub const LABEL: &str = "label";
    /// Which runner the label comes from: [`super::label_source`] values; absent
    /// for a label the user set.
    pub const LABEL_SOURCE: &str = "label-source";
    /// In a pool: a counter file of the same pod already included in it.
    pub const ABSORBED: &str = "absorbed";
}

/// Values of the `label-source` args key.
pub mod label_source {
    /// cargo-nextest's binary id and test name (`BINARY TEST`).
    pub const NEXTEST: &str = "nextest";
    /// The test binary `cargo test` ran (`BINARY`, spelled as nextest's
    /// binary id).
    pub const CARGO_TEST: &str = "cargo-test";
}

/// Values of the `end` header field of a counter file, which say how the
/// process that wrote it ended.
pub mod end_reason {
    /// Normal exit: return from main, `std::process::exit`, or an unwinding
    /// panic out of main.
    pub const EXIT: u32 = 0;
    /// Values `1..=SIGNAL_MAX` mean "killed by this signal number".
    pub const SIGNAL_MAX: u32 = 64;
    /// An in-process snapshot; the process kept running.
    pub const SNAPSHOT: u32 = 0xffff_fffe;
    /// Read from a dense counter file (continuous mode) whose process ended
    /// without its exit path: SIGKILL, the OOM killer, a crash, or exec.
    pub const LOST: u32 = 0xffff_fffc;
    /// Written just before exec replaced the process image (the counts up
    /// to the exec; the process was then reset to zero).
    pub const EXEC: u32 = 0xffff_fffd;
    /// Written by `covdata` (merge, subtract, intersect), not by a process.
    pub const MERGED: u32 = 0xffff_ffff;
}

/// Counter-file header flags.
pub mod counter_flags {
    /// Some counter saturated at `u64::MAX` while merging.
    pub const SATURATED: u32 = 1 << 0;
}

/// Prefix of meta file names: `covmeta.<32 hex digits of H>`.
pub const META_FILE_PREFIX: &str = "covmeta.";
/// Prefix of counter file names: `covcounters.<H>.<pid>.<nanotime>`.
pub const COUNTERS_FILE_PREFIX: &str = "covcounters.";
/// Prefix of temporary files; readers ignore them. A writer renames the
/// finished file to its final name, so a reader never sees a partial file.
pub const TEMP_FILE_PREFIX: &str = ".covtmp.";
/// Prefix of a pod's lock file, `.covlock.<H>` (see docs/FORMAT.md, pools).
pub const LOCK_FILE_PREFIX: &str = ".covlock.";
/// pid and nanotime of a pod's pool file, `covcounters.<H>.0.0`.
pub const POOL_PID: u64 = 0;
/// See [`POOL_PID`].
pub const POOL_NANOS: u64 = 0;

/// Layout of the slot the runtime reserves in every instrumented binary for
/// H. covwrap fills it after linking, so a run need not hash the mapping.
pub mod slot {
    /// ELF section holding the slot.
    pub const SECTION: &str = ".covwrap_meta_id";
    /// Total slot size: a 16-byte state marker, H (16), the build time
    /// (u64 ns, 0 = unknown), the length of the target table (u32), 4
    /// reserved bytes, then the target table (a kv table of the
    /// `target-*` ident keys).
    pub const LEN: usize = 512;
    /// Offset of the build time.
    pub const TIME_OFFSET: usize = 32;
    /// Offset of the target table's length.
    pub const TARGET_LEN_OFFSET: usize = 40;
    /// Offset of the target table.
    pub const TARGET_OFFSET: usize = 48;
    /// Marker of a slot nobody filled in.
    pub const UNSET: [u8; 16] = *b"covwrap:unset\0\0\0";
    /// Marker of a slot holding a valid H in bytes 16..32.
    pub const SET: [u8; 16] = *b"covwrap:meta-h1\0";
}
