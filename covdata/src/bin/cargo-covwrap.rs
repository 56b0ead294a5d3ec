//! The `cargo covwrap` subcommand; its command line lives in the library's
//! `cli::cargo` module.

fn main() -> std::process::ExitCode {
    // The allocator settings of covdata's reports, which this command
    // writes too.
    covdata::malloc_tuning::tune();
    covdata::cli::cargo::main()
}
