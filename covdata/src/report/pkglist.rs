//! The sorted, unique crate names of every function record.

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::Context;

/// Writes one crate name per line.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let crates: BTreeSet<&str> = ctx
        .cov
        .functions
        .iter()
        .map(|f| ctx.cov.crate_name(f))
        .filter(|c| ctx.opts.crates.matches(c))
        .collect();
    for c in crates {
        writeln!(out, "{c}")?;
    }
    Ok(())
}
