//! `covdata completions SHELL`: a completion script from the CLI's own
//! definition, so it never falls behind a new flag.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Outcome};

#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub const EXAMPLES: &str = "\
Examples:
  covdata completions bash > ~/.local/share/bash-completion/completions/covdata
  covdata completions zsh > \"${fpath[1]}/_covdata\"
  covdata completions fish > ~/.config/fish/completions/covdata.fish";

pub fn run(args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "covdata", &mut out);
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(&out)
        .and_then(|()| lock.flush())
        .map_err(|e| anyhow::Error::new(e).context("writing to standard output"))?;
    Ok(Outcome::Ok)
}
