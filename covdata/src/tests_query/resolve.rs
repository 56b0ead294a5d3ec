//! A query resolved against the summed model: the target lines of each
//! file and the function records whose regions can decide them.

use std::collections::BTreeMap;

use crate::diff::coverage::{coverage_path, patch_coverage};
use crate::diff::patch::ChangedFile;
use crate::error::{Error, ErrorKind, Result};
use crate::report::{strip_generic_args, Context};

/// What `covdata tests` is asked.
#[derive(Clone, Debug)]
pub enum Query {
    /// `--line=FILE:LINE`: FILE relative to `anchor` (or a unique suffix of
    /// a recorded path).
    Line {
        /// The file as typed.
        path: String,
        /// 1-based line.
        line: u32,
        /// The directory a relative `path` starts from (`--root`, else the
        /// working directory).
        anchor: String,
    },
    /// `--function=NAME`: a demangled name without generic arguments, or
    /// its last `::` components (`parse`, `mylib::parse`).
    Function(String),
    /// `--base=REV` / `--diff-file=PATCH`: the added lines of a change,
    /// relative to `anchor` (as `covdata diff` matches them).
    Changes {
        /// The changed files.
        files: Vec<ChangedFile>,
        /// What their paths are relative to.
        anchor: String,
    },
}

/// One file's target lines and the records to evaluate for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTargets {
    /// Index into the model's files.
    pub file: u32,
    /// Target lines that hold code and ran in some run, sorted.
    pub lines: Vec<u32>,
    /// Records (indices into the model's functions) with a region in this
    /// file overlapping one of `lines`.
    pub records: Vec<u32>,
}

/// A resolved query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    /// The query in words.
    pub query: String,
    /// Lines to evaluate, per file (line and change queries).
    pub files: Vec<FileTargets>,
    /// Records whose entry count answers (function queries).
    pub functions: Vec<u32>,
    /// Target lines or functions that hold code (ran or not).
    pub coverable: u64,
    /// Change queries: the sentence `covdata diff` says when none of the
    /// changed Rust files is in the coverage data.
    pub nothing_matched: Option<String>,
}

/// Resolves `query` against `ctx`; a line without code, a file or a
/// function the data does not have is an error naming it.
pub fn resolve(ctx: &Context, query: &Query) -> Result<Targets> {
    match query {
        Query::Line { path, line, anchor } => {
            let file = find_file(ctx, anchor, path)?;
            let mut t = Targets {
                query: format!("{path}:{line}"),
                ..Targets::default()
            };
            if ctx.file_view(file).line_count(*line).is_none() {
                return Err(Error::new(
                    ErrorKind::Usage,
                    format!("--line={path}:{line}: line {line} holds no code in the coverage data of {}", ctx.cov.file_path(file)),
                ));
            }
            add_lines(ctx, file, &[*line], &mut t);
            Ok(t)
        }
        Query::Function(name) => resolve_function(ctx, name),
        Query::Changes { files, anchor } => {
            let by_path: BTreeMap<&str, u32> = (0..ctx.cov.files.len() as u32)
                .map(|f| (ctx.cov.file_path(f), f))
                .collect();
            let lines: usize = files.iter().map(|f| f.lines.len()).sum();
            let mut t = Targets {
                query: format!("{lines} changed lines in {} files", files.len()),
                nothing_matched: patch_coverage(ctx, files, anchor).nothing_matched,
                ..Targets::default()
            };
            for change in files.iter().filter(|c| c.path.ends_with(".rs")) {
                let Some(&file) = by_path.get(coverage_path(anchor, &change.path).as_str()) else {
                    continue;
                };
                if !ctx.keeps_file(file) {
                    continue;
                }
                let lines: Vec<u32> = change.lines.iter().map(|l| l.line).collect();
                add_lines(ctx, file, &lines, &mut t);
            }
            Ok(t)
        }
    }
}

/// Adds the lines of `file` that hold code; those that ran somewhere
/// become targets with the records that can reach them.
fn add_lines(ctx: &Context, file: u32, lines: &[u32], t: &mut Targets) {
    let view = ctx.file_view(file);
    let mut ran = Vec::new();
    for &line in lines {
        if let Some(count) = view.line_count(line) {
            t.coverable += 1;
            if count > 0 {
                ran.push(line);
            }
        }
    }
    ran.sort_unstable();
    ran.dedup();
    if ran.is_empty() {
        return;
    }
    let cov = ctx.cov;
    let records = cov
        .function_indices_in_file(file)
        .iter()
        .copied()
        .filter(|&i| {
            let f = &cov.functions[i as usize];
            f.regions.iter().any(|r| {
                f.filenames[r.file_id as usize] == file
                    && ran.iter().any(|&l| r.line_start <= l && l <= r.line_end)
            })
        })
        .collect();
    t.files.push(FileTargets {
        file,
        lines: ran,
        records,
    });
}

fn resolve_function(ctx: &Context, name: &str) -> Result<Targets> {
    let cov = ctx.cov;
    let suffix = format!("::{name}");
    let functions: Vec<u32> = (0..cov.functions.len() as u32)
        .filter(|&i| {
            let f = &cov.functions[i as usize];
            if !ctx.keeps_function(f) {
                return false;
            }
            let full = strip_generic_args(&ctx.function_name(f));
            full == name || full.ends_with(&suffix) || *f.name == *name
        })
        .collect();
    if functions.is_empty() {
        return Err(Error::new(
            ErrorKind::Usage,
            format!("--function={name}: no function of that name in the coverage data"),
        ));
    }
    let ran = functions
        .iter()
        .filter(|&&i| cov.functions[i as usize].execution_count > 0)
        .copied()
        .collect();
    Ok(Targets {
        query: format!("function {name}"),
        files: Vec::new(),
        coverable: 1,
        functions: ran,
        nothing_matched: None,
    })
}

/// The model's file for `path`: `anchor/path` exactly, else the one
/// recorded path that ends with `/path`.
fn find_file(ctx: &Context, anchor: &str, path: &str) -> Result<u32> {
    let cov = ctx.cov;
    let wanted = coverage_path(anchor, path);
    if let Some(f) = (0..cov.files.len() as u32).find(|&f| cov.file_path(f) == wanted) {
        return Ok(f);
    }
    let tail = format!("/{}", path.trim_start_matches("./"));
    let matches: Vec<u32> = (0..cov.files.len() as u32)
        .filter(|&f| cov.file_path(f).ends_with(&tail))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::new(
            ErrorKind::Usage,
            format!("--line={path}: no such file in the coverage data (looked for {wanted})"),
        )),
        [a, b, ..] => Err(Error::new(
            ErrorKind::Usage,
            format!(
                "--line={path}: {} files end with it ({}, {}, ...); give more of the path or --root",
                matches.len(),
                cov.file_path(*a),
                cov.file_path(*b)
            ),
        )),
    }
}
