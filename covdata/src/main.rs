//! The `covdata` command: reports over covwrap coverage directories. The
//! command line lives in `cli/` (see cli/mod.rs for how to add a
//! subcommand).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
