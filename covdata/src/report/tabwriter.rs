//! Column alignment like Go's `text/tabwriter` with the settings `go tool
//! covdata func` uses (minwidth 1, tabwidth 8, padding 1, padchar '\t'),
//! or with spaces.

/// How to pad cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Tabs, each column a multiple of 8 wide (Go's covdata).
    Tabs,
    /// Spaces, with this many between columns.
    Spaces(usize),
}

/// Renders rows of cells. Every cell but the last of each row is padded
/// to its column's width; the last cell is written as is.
pub fn render(rows: &[Vec<String>], padding: Padding) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![1usize; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            let extra = match padding {
                Padding::Tabs => 1,
                Padding::Spaces(n) => n,
            };
            widths[i] = widths[i].max(cell.chars().count() + extra);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 == row.len() {
                break;
            }
            let text = cell.chars().count();
            match padding {
                Padding::Tabs => {
                    let cell_width = widths[i].div_ceil(8) * 8;
                    for _ in 0..(cell_width - text).div_ceil(8) {
                        out.push('\t');
                    }
                }
                Padding::Spaces(_) => {
                    for _ in text..widths[i] {
                        out.push(' ');
                    }
                }
            }
        }
        // Trailing padding is never useful.
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(r: &[&[&str]]) -> Vec<Vec<String>> {
        r.iter()
            .map(|row| row.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn tabs_like_go() {
        let r = rows(&[
            &["a.rs:1:", "main", "50.0%"],
            &["src/long/file.rs:10:", "f", "0.0%"],
        ]);
        assert_eq!(
            render(&r, Padding::Tabs),
            "a.rs:1:\t\t\tmain\t50.0%\nsrc/long/file.rs:10:\tf\t0.0%\n"
        );
    }

    #[test]
    fn spaces() {
        let r = rows(&[&["crate", "lines"], &["x", "1"]]);
        assert_eq!(render(&r, Padding::Spaces(2)), "crate  lines\nx      1\n");
    }
}
