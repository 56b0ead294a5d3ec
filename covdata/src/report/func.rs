//! One row per function (instantiation group) like `go tool covdata func`:
//! `file:line:`, the demangled name without generic arguments, and the
//! group's line coverage (llvm-cov's max-merge over instantiations), then a
//! `total` row over all lines.
//! A serializer of the [`view`](super::view). Aligned with Go's tabwriter settings.

use std::io::{self, Write};

use super::tabwriter::{render, Padding};
use super::Context;
use crate::model::summary::Ratio;

fn percent(r: Ratio) -> String {
    format!("{:.1}%", r.percent())
}

/// Writes the table.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    let mut rows = Vec::new();
    let mut total = Ratio::default();
    for view in ctx.file_views() {
        for f in view.functions() {
            total.add(f.summary.lines);
            rows.push(vec![
                format!("{}:{}:", view.display_path(), f.start.0),
                f.name,
                percent(f.summary.lines),
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
