//! `covdata profraw`: one LLVM raw profile per pod, for llvm-profdata and
//! llvm-cov.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Context as _;
use clap::Args;
use covdata::{profraw, Coverage, Error};

use super::args::{InputArgs, OutputDirArgs};
use super::{plain, Outcome, UsageError};

#[derive(Args, Debug, Clone)]
pub struct ProfrawArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputDirArgs,
}

pub const EXAMPLES: &str = "\
Prints one line per profile: its path, the build-id and the binary of its latest run.

Examples:
  covdata profraw -i=/tmp/cov -o=/tmp/raw
  llvm-profdata merge -o app.profdata /tmp/raw/*.profraw
  llvm-cov report -instr-profile=app.profdata ./target/debug/app";

pub fn run(args: &ProfrawArgs) -> anyhow::Result<Outcome> {
    let Some(dir) = args.output.output.as_deref() else {
        return Err(UsageError("needs -o=OUTDIR".into()).into());
    };
    let cov = super::report::load_model(&args.input, false, false)?;
    write_profraws(&cov, dir)?;
    Ok(Outcome::Ok)
}

fn write_profraws(cov: &Coverage, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| plain(Error::io(dir, &e)))?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for pod in &cov.pods {
        let ids: Vec<&str> = pod
            .modules
            .iter()
            .filter_map(|m| m.ident_value("build-id"))
            .collect();
        let build_id = (!ids.is_empty()).then(|| ids.join(","));
        let bytes = profraw::encode_pod(pod);
        let path = dir.join(format!("{}.profraw", pod.hash_hex()));
        covdata::output::write_atomic(&path, |w| w.write_all(&bytes)).map_err(plain)?;
        // The most recent run names the binary to pair the profile with.
        let exe = pod.summary.latest_exe();
        writeln!(
            out,
            "{}\tbuild-id={}\texe={}",
            path.display(),
            build_id.as_deref().unwrap_or("none"),
            exe.unwrap_or("unknown")
        )
        .context("writing to standard output")?;
    }
    out.flush().context("writing to standard output")?;
    Ok(())
}
