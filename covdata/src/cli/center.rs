//! The center's subcommands: `serve`, and its clients `agents`, `profile`,
//! `clear`, `remove`, `init` (docs/CENTER.md). Reports and merge read a
//! center through `--center` in [`super::args::InputArgs`].

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use covdata::center::client::{Client, Selection};
use covdata::center::http::parse_duration;
use covdata::center::store::StoreSpec;
use covdata::center::{self, ServeOptions};

use super::args::{ConnArgs, SelectArgs};
use super::{Outcome, UsageError};

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Where to listen (port 0: any free port; the first line of stdout names it)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7777")]
    pub addr: String,
    /// DIR keeps the registry and the data (DIR/cov is a COVDIR); memory keeps nothing
    #[arg(long, value_name = "DIR|memory")]
    pub store: String,
    /// Required from agents and clients (default: $COVDATA_CENTER_TOKEN)
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
    /// Agents silent this long are shown disconnected
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub heartbeat: String,
    /// Stop by itself after this long (tests, demos)
    #[arg(long, value_name = "DURATION")]
    pub exit_after: Option<String>,
}

/// The flags every client command shares.
#[derive(Args, Debug, Clone)]
pub struct CenterArgs {
    /// The center (http://HOST:PORT)
    #[arg(long, value_name = "URL")]
    pub center: String,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ProfileArgs {
    #[command(flatten)]
    pub center: CenterArgs,
    /// Output directory: the profile as a COVDIR (replaced atomically)
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Fold every binary and version into one pod (as merge --pcombine)
    #[arg(long)]
    pub pcombine: bool,
}

#[derive(Args, Debug, Clone)]
pub struct RemoveArgs {
    #[command(flatten)]
    pub center: CenterArgs,
    /// Drop the agents' stored counters too
    #[arg(long)]
    pub data: bool,
}

pub const SERVE_EXAMPLES: &str = "\
Examples:
  covdata serve --addr=127.0.0.1:7777 --store=/var/lib/covcenter
  covdata serve --addr=127.0.0.1:0 --store=memory        # prints the port it picked
  covdata serve --addr=0.0.0.0:7777 --store=DIR --token=$TOKEN";
pub const AGENTS_EXAMPLES: &str = "\
Examples:
  covdata agents --center=http://127.0.0.1:7777
  covdata agents --center=http://127.0.0.1:7777 --service=orders";
pub const PROFILE_EXAMPLES: &str = "\
Examples:
  covdata profile --center=http://127.0.0.1:7777 -o=/tmp/snap
  covdata profile --center=http://127.0.0.1:7777 --service=orders --timeout=2s -o=/tmp/orders
  covdata percent -i=/tmp/snap";
pub const CLEAR_EXAMPLES: &str = "\
Examples:
  covdata clear --center=http://127.0.0.1:7777 --service=orders";
pub const REMOVE_EXAMPLES: &str = "\
Examples:
  covdata remove --center=http://127.0.0.1:7777 --id=3
  covdata remove --center=http://127.0.0.1:7777 --service=old --data";
pub const INIT_EXAMPLES: &str = "\
Examples:
  covdata init --center=http://127.0.0.1:7777";

fn duration(flag: &str, value: &str) -> Result<Duration, UsageError> {
    parse_duration(value).map_err(|e| UsageError(format!("--{flag}: {e}")))
}

pub fn serve(a: &ServeArgs) -> anyhow::Result<Outcome> {
    let opts = ServeOptions {
        addr: a.addr.clone(),
        store: StoreSpec::parse(&a.store),
        token: a
            .token
            .clone()
            .or_else(|| std::env::var("COVDATA_CENTER_TOKEN").ok())
            .filter(|t| !t.is_empty()),
        heartbeat: duration("heartbeat", &a.heartbeat)?,
        exit_after: a
            .exit_after
            .as_deref()
            .map(|d| duration("exit-after", d))
            .transpose()?,
    };
    center::serve(opts).map_err(|e| anyhow::anyhow!("serve: {e}"))?;
    Ok(Outcome::Ok)
}

fn connect(a: &CenterArgs) -> anyhow::Result<(Client, Selection)> {
    Ok((a.conn.client(&a.center)?, a.select.selection()?))
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing to standard output")
}

fn warn_skipped(skipped: &[center::wire::Skipped]) {
    for s in skipped {
        eprintln!("covdata: warning: agent {} skipped: {}", s.id, s.reason);
    }
}

pub fn agents(a: &CenterArgs) -> anyhow::Result<Outcome> {
    let (client, sel) = connect(a)?;
    let agents = client.agents(&sel)?;
    print(&center::table::agents_table(&agents, center::now_ns()))?;
    Ok(Outcome::Ok)
}

pub fn profile(a: &ProfileArgs) -> anyhow::Result<Outcome> {
    let Some(out) = &a.output else {
        return Err(UsageError("needs -o=DIR (the profile is written as a COVDIR)".into()).into());
    };
    let (client, sel) = connect(&a.center)?;
    let profile = client.profile(&sel, a.center.conn.agent_timeout()?, a.pcombine)?;
    for s in &profile.skipped {
        eprintln!("covdata: warning: {}", covdata::source::skipped_line(s));
    }
    if profile.files.is_empty() {
        anyhow::bail!(
            "center {}: no coverage data for the selected agents",
            client.url()
        );
    }
    profile
        .files
        .write_dir(out)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Outcome::Ok)
}

pub fn clear(a: &CenterArgs) -> anyhow::Result<Outcome> {
    let (client, sel) = connect(a)?;
    let answer = client.clear(&sel, a.conn.agent_timeout()?)?;
    warn_skipped(&answer.skipped);
    print(&format!("cleared {}\n", agent_count(answer.cleared.len())))?;
    Ok(Outcome::Ok)
}

pub fn remove(a: &RemoveArgs) -> anyhow::Result<Outcome> {
    let (client, sel) = connect(&a.center)?;
    if sel == Selection::default() {
        return Err(UsageError(
            "needs --id, --service or --label (init empties the whole registry)".into(),
        )
        .into());
    }
    let answer = client.remove(&sel, a.data)?;
    if answer.removed.is_empty() {
        anyhow::bail!(
            "center {}: no agent matches the selection; nothing removed",
            client.url()
        );
    }
    print(&format!("removed {}\n", agent_count(answer.removed.len())))?;
    Ok(Outcome::Ok)
}

pub fn init(a: &CenterArgs) -> anyhow::Result<Outcome> {
    let (client, sel) = connect(a)?;
    if sel != Selection::default() {
        return Err(UsageError(
            "init empties the whole center; to drop some agents use remove".into(),
        )
        .into());
    }
    let answer = client.init(a.conn.agent_timeout()?)?;
    warn_skipped(&answer.skipped);
    print(&format!(
        "reset {}; registry and data emptied\n",
        agent_count(answer.reset.len())
    ))?;
    Ok(Outcome::Ok)
}

/// "1 agent", "3 agents".
fn agent_count(n: usize) -> String {
    if n == 1 {
        "1 agent".into()
    } else {
        format!("{n} agents")
    }
}
