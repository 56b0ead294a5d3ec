//! The `covdata` command: reports over covwrap coverage directories. The
//! command line lives in the library's `cli` module (see cli/mod.rs for how
//! to add a subcommand).

fn main() -> std::process::ExitCode {
    covdata::malloc_tuning::tune();
    covdata::cli::main()
}
