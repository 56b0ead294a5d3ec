//! The center's commands and the `--center` input (a thin layer over
//! `covdata::center`).

use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use covdata::center::client::{Client, Selection};
use covdata::center::http::parse_duration;
use covdata::center::store::StoreSpec;
use covdata::center::{self, ServeOptions};
use covdata::source::{CenterInput, Source};

use super::Args;

/// Why a center command failed.
pub enum Failure {
    /// Bad usage (exit 2).
    Usage(String),
    /// The command ran and failed (exit 1).
    Run(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Run(e)
    }
}

impl From<center::client::ClientError> for Failure {
    fn from(e: center::client::ClientError) -> Self {
        Failure::Run(anyhow::Error::msg(e.to_string()))
    }
}

/// For callers that only have anyhow.
pub fn usage_to_anyhow(f: Failure) -> anyhow::Error {
    match f {
        Failure::Usage(m) => anyhow::Error::msg(m),
        Failure::Run(e) => e,
    }
}

/// Each call to the center (besides the agents' own time) gets this long.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

fn duration(flag: &str, value: &Option<String>, default: Duration) -> Result<Duration, Failure> {
    match value {
        Some(v) => parse_duration(v).map_err(|e| Failure::Usage(format!("--{flag}: {e}"))),
        None => Ok(default),
    }
}

fn token(args: &Args) -> Option<String> {
    args.token
        .clone()
        .or_else(|| std::env::var("COVDATA_CENTER_TOKEN").ok())
        .filter(|t| !t.is_empty())
}

fn selection(args: &Args) -> Result<Selection, Failure> {
    let mut ids = Vec::new();
    for id in &args.ids {
        ids.push(
            id.parse::<u64>()
                .map_err(|_| Failure::Usage(format!("--id: {id:?} is not an agent id")))?,
        );
    }
    if let Some(l) = &args.label {
        regex::Regex::new(l).map_err(|e| {
            Failure::Usage(format!(
                "--label: bad regex {l:?}: {}",
                e.to_string().lines().last().unwrap_or("")
            ))
        })?;
    }
    Ok(Selection {
        services: args.services.clone(),
        ids,
        label: args.label.clone(),
    })
}

fn client(args: &Args) -> Result<Client, Failure> {
    let Some(url) = &args.center else {
        return Err(Failure::Usage("needs --center=URL".into()));
    };
    Ok(Client::new(url, token(args), CALL_TIMEOUT)?)
}

fn agent_timeout(args: &Args) -> Result<Duration, Failure> {
    duration("timeout", &args.timeout, Duration::from_secs(5))
}

/// The input of a report or merge: `--center` or the `-i` directories.
pub fn source(args: &Args) -> Result<Source, Failure> {
    if args.center.is_none() {
        if !args.services.is_empty() || !args.ids.is_empty() || args.label.is_some() {
            return Err(Failure::Usage(
                "--service, --id and --label select agents of a --center".into(),
            ));
        }
        return Ok(Source::Dirs(args.inputs.clone()));
    }
    Ok(Source::Center(CenterInput {
        client: client(args)?,
        selection: selection(args)?,
        agent_timeout: agent_timeout(args)?,
    }))
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

/// Runs `serve`, `agents`, `profile`, `clear`, `remove` or `init`.
pub fn run(args: &Args) -> Result<(), Failure> {
    if args.command == "serve" {
        let store = args
            .store
            .as_deref()
            .ok_or_else(|| Failure::Usage("needs --store=DIR or --store=memory".into()))?;
        let opts = ServeOptions {
            addr: args.addr.clone().unwrap_or_else(|| "127.0.0.1:7777".into()),
            store: StoreSpec::parse(store),
            token: token(args),
            heartbeat: duration("heartbeat", &args.heartbeat, Duration::from_secs(30))?,
            exit_after: match &args.exit_after {
                Some(_) => Some(duration("exit-after", &args.exit_after, Duration::ZERO)?),
                None => None,
            },
        };
        return center::serve(opts)
            .map_err(|e| Failure::Run(anyhow::Error::msg(format!("serve: {e}"))));
    }
    let client = client(args)?;
    let sel = selection(args)?;
    match args.command.as_str() {
        "agents" => {
            let agents = client.agents(&sel)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            print(&center::table::agents_table(&agents, now))?;
        }
        "profile" => {
            let Some(out) = &args.output else {
                return Err(Failure::Usage(
                    "needs -o=DIR (the profile is written as a COVDIR)".into(),
                ));
            };
            let profile = client.profile(&sel, agent_timeout(args)?, args.pcombine)?;
            for s in &profile.skipped {
                eprintln!("covdata: warning: {}", covdata::source::skipped_line(s));
            }
            if profile.files.is_empty() {
                return Err(Failure::Run(anyhow::Error::msg(format!(
                    "center {}: no coverage data for the selected agents",
                    client.url()
                ))));
            }
            profile
                .files
                .write_dir(out)
                .map_err(|e| Failure::Run(anyhow::Error::msg(e.to_string())))?;
        }
        "clear" => {
            let answer = client.clear(&sel, agent_timeout(args)?)?;
            warn_skipped(&answer.skipped);
            print(&format!("cleared {} agents\n", answer.cleared.len()))?;
        }
        "remove" => {
            if sel == Selection::default() {
                return Err(Failure::Usage(
                    "needs --id, --service or --label (init empties the whole registry)".into(),
                ));
            }
            let answer = client.remove(&sel, args.data)?;
            print(&format!("removed {} agents\n", answer.removed.len()))?;
        }
        "init" => {
            let answer = client.init(agent_timeout(args)?)?;
            warn_skipped(&answer.skipped);
            print(&format!(
                "reset {} agents; registry and data emptied\n",
                answer.reset.len()
            ))?;
        }
        other => unreachable!("center command {other}"),
    }
    Ok(())
}
