//! The `covdata` command: reports over covwrap coverage directories. The
//! command line lives in the library's `cli` module (see cli/mod.rs for how
//! to add a subcommand).

fn main() -> std::process::ExitCode {
    covdata::cli::main()
}

// mimalloc, not glibc's malloc: the report threads allocate tens of
// megabytes, and glibc grows each thread's arena a few pages at a time
// (thousands of mprotect calls that stall the other threads' page
// faults); see docs/ARCHITECTURE.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
