//! The `cargo covwrap` subcommand; its command line lives in the library's
//! `cli::cargo` module.

fn main() -> std::process::ExitCode {
    covdata::cli::cargo::main()
}
