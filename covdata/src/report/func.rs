//! One row per function (instantiation group) like `go tool covdata func`:
//! `file:line:`, the demangled name without generic arguments, and the
//! group's line coverage (llvm-cov's max-merge over instantiations), then a
//! `total` row over all lines. Aligned with Go's tabwriter settings.

use std::io::{self, Write};

use super::tabwriter::{render, Padding};
use super::{strip_generic_args, Context};
use crate::model::summary::Ratio;

fn percent(r: Ratio) -> String {
    format!("{:.1}%", r.percent())
}

/// Writes the table.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let cov = ctx.cov;
    let summaries = ctx.summaries();
    let mut rows = Vec::new();
    let mut total = Ratio::default();
    for file in ctx.kept_files() {
        for g in ctx.groups(file) {
            let first = &cov.functions[g.functions[0] as usize];
            let name = if ctx.opts.mangled {
                first.name.to_string()
            } else {
                strip_generic_args(&ctx.function_name(first))
            };
            let s = summaries.group_summary(g);
            total.add(s.lines);
            rows.push(vec![
                format!("{}:{}:", ctx.display_path(file), g.line),
                name,
                percent(s.lines),
            ]);
        }
    }
    rows.push(vec![
        "total".to_string(),
        "(lines)".to_string(),
        percent(total),
    ]);
    out.write_all(render(&rows, Padding::Tabs).as_bytes())
}
