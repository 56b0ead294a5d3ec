//! The `cargo covwrap` subcommand; its command line lives in the library's
//! `cli::cargo` module.

fn main() -> std::process::ExitCode {
    covdata::cli::cargo::main()
}

// The allocator covdata uses, for the reports this command writes (see
// covdata's main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
