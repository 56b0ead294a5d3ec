//! SonarQube generic coverage (`sonar.coverageReportPaths`), the format
//! of Sonar's `sonar-generic-coverage.xsd`. A serializer of the
//! [`view`](super::view):
//!
//! ```text
//! <coverage version="1">
//!   <file path="src/main.rs">                 one per file, relative to the root
//!     <lineToCover lineNumber="3" covered="true"/>
//!     <lineToCover lineNumber="4" covered="false" branchesToCover="2" coveredBranches="1"/>
//!   </file>
//! </coverage>
//! ```
//!
//! Lines are the file view's mapped lines (`covdata lcov`'s `DA` lines),
//! covered when their count is non-zero. A mapped line with branches
//! carries its branch outcomes (true and false sides separately, constant
//! sides left out). Paths are relative to the report root (`--root`, else
//! the recorded compilation directory), which is what Sonar resolves
//! against `sonar.projectBaseDir` when that is the same directory; files
//! outside the root keep their absolute path (Sonar accepts those too).
//! Nothing in it depends on time: the same inputs give the same bytes.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::xml::escaped;
use super::Context;

/// Writes the report.
pub fn write(ctx: &Context, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(out, "<coverage version=\"1\">")?;
    let mut buf = String::new();
    for view in ctx.file_views() {
        writeln!(out, "  <file path=\"{}\">", escaped(view.display_path()))?;
        let branch_lines = view.branch_lines();
        let mut next_branch = 0;
        for run in view.line_runs() {
            let covered = run.count > 0;
            // Sonar's line numbers are positive; corrupt mappings can say 0.
            for line in run.first.max(1)..=run.last {
                buf.clear();
                let _ = write!(
                    buf,
                    "    <lineToCover lineNumber=\"{line}\" covered=\"{covered}\""
                );
                while branch_lines.get(next_branch).is_some_and(|b| b.line < line) {
                    next_branch += 1;
                }
                if let Some(b) = branch_lines.get(next_branch).filter(|b| b.line == line) {
                    let _ = write!(
                        buf,
                        " branchesToCover=\"{}\" coveredBranches=\"{}\"",
                        b.outcomes.total, b.outcomes.covered
                    );
                }
                buf.push_str("/>\n");
                out.write_all(buf.as_bytes())?;
            }
        }
        writeln!(out, "  </file>")?;
    }
    writeln!(out, "</coverage>")
}
