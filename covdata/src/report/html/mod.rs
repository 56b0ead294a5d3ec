//! `covdata html`: a directory with `index.html`, one page per source file
//! under `files/`, and the shared `style.css` and `report.js` (embedded in
//! the binary). A serializer of the per-file views ([`crate::report::view`]):
//! every number on a page is the view's.
//!
//! - Offline and from `file://`: no network, no `fetch()`; the numbers are
//!   in the pages' HTML, the stylesheet and script are relative links.
//! - Sources are read from disk at `<root>/<display path>` (root:
//!   `--root`, else the recorded compilation directory), so a `--root`
//!   outside the compilation directory reads the files built there from
//!   their checkout under `--root` ([`Context::display_path`]); a file
//!   shown at its absolute path is read there. A file that
//!   cannot be read gets a page saying so, with its mapped lines and
//!   counts, and is listed in [`HtmlReport::missing`].
//! - Written atomically as a directory (see [`outdir`]); pages are
//!   rendered on several threads; the same input gives byte-identical files.
//! - Incremental, as coverage.py's htmlcov: a page whose fingerprint
//!   ([`page::fingerprint`]: its view, its source, the renderer) is the one
//!   the report being replaced recorded for it is kept from there, not
//!   rendered again.

pub mod escape;
mod index;
mod manifest;
mod num;
pub mod outdir;
mod page;

use std::borrow::Cow;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::Context;
use crate::error::{Error, Result};
use crate::paths;
use index::FileRow;
use page::Source;

/// The stylesheet every page links to.
pub const STYLE: &str = include_str!("style.css");
/// The script every page loads.
pub const SCRIPT: &str = include_str!("report.js");

/// A source file that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingSource {
    /// Its display path (the page's title).
    pub display_path: String,
    /// Where it was looked for.
    pub tried: PathBuf,
    /// The OS error.
    pub error: String,
}

/// What [`write`] did.
#[derive(Clone, Debug, Default)]
pub struct HtmlReport {
    /// Source pages written.
    pub pages: usize,
    /// Sources that could not be read, in path order.
    pub missing: Vec<MissingSource>,
}

/// Writes the report of the kept files into the directory `target`.
pub fn write(ctx: &Context, target: &Path) -> Result<HtmlReport> {
    let files: Vec<u32> = ctx.kept_files().collect();
    let names = escape::page_names(files.iter().map(|&f| ctx.display_path(f)));
    // Every page needs the summaries: computed once, before the threads.
    ctx.summaries();
    // Largest sources first, so that no thread is left with a big page
    // at the end while the others are idle.
    let mut order: Vec<usize> = (0..files.len()).collect();
    let sizes: Vec<u64> = files
        .iter()
        .map(|&f| std::fs::metadata(source_path(ctx, f)).map_or(0, |m| m.len()))
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let staging = outdir::Staging::new(target)?;
    let pages_dir = staging.dir().join("files");
    std::fs::create_dir(&pages_dir).map_err(|e| Error::io(&pages_dir, &e))?;

    let results: Mutex<Vec<(usize, Result<Option<MissingSource>>)>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get().min(8))
        .min(files.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                // Reused from page to page: a thread's buffers grow to its
                // largest page and source once.
                let mut buffers = Buffers::default();
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let dest = format!("files/{}", names[i]);
                    let r = write_page(ctx, files[i], &staging, &dest, &mut buffers);
                    results
                        .lock()
                        .expect("no thread panics holding it")
                        .push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("threads joined");
    results.sort_by_key(|(i, _)| *i);
    let mut report = HtmlReport::default();
    for (_, r) in results {
        if let Some(m) = r? {
            report.missing.push(m);
        }
        report.pages += 1;
    }

    let rows: Vec<FileRow> = files
        .iter()
        .zip(&names)
        .map(|(&f, name)| {
            let view = ctx.file_view(f);
            FileRow {
                path: ctx.display_path(f),
                crate_name: ctx.file_crate(f),
                page: name,
                summary: *view.summary(),
            }
        })
        .collect();
    let title = match ctx.root().map(|r| r.trim_end_matches('/')) {
        Some(r) if !r.is_empty() => {
            format!("Coverage: {}", r.rsplit('/').next().unwrap_or(r))
        }
        _ => "Coverage".to_string(),
    };
    let mut html = String::new();
    index::render(&mut html, &title, &rows, &ctx.totals());
    staging.put("index.html", html.as_bytes())?;
    staging.put("style.css", STYLE.as_bytes())?;
    staging.put("report.js", SCRIPT.as_bytes())?;
    staging.commit()?;
    Ok(report)
}

/// A page thread's buffers, reused from page to page.
#[derive(Default)]
struct Buffers {
    html: String,
    source: Vec<u8>,
    fingerprint: Vec<u8>,
}

/// Renders and writes one page, or keeps it from the report being
/// replaced when its fingerprint is unchanged; a source that cannot be
/// read is returned, not an error.
fn write_page(
    ctx: &Context,
    file: u32,
    staging: &outdir::Staging,
    dest: &str,
    buffers: &mut Buffers,
) -> Result<Option<MissingSource>> {
    let Buffers {
        html,
        source: text,
        fingerprint,
    } = buffers;
    let view = ctx.file_view(file);
    let (text, missing) = match read_source(ctx, file, text) {
        Ok(text) => (Some(text), None),
        Err((tried, error)) => (
            None,
            Some(MissingSource {
                display_path: view.display_path().to_string(),
                tried,
                error,
            }),
        ),
    };
    let source = match (&text, &missing) {
        (Some(t), _) => Source::Text(t),
        (None, Some(m)) => Source::Missing {
            path: m.tried.to_str().unwrap_or(view.display_path()),
            reason: &m.error,
        },
        (None, None) => unreachable!("a source is read or missing"),
    };
    let functions = view.functions();
    let inputs = page::fingerprint(&view, &functions, &source, fingerprint);
    if staging.keep_rendered(dest, inputs) {
        return Ok(missing);
    }
    html.clear();
    // Room for the whole page up front (pages run to about three times
    // their source), so that a big page is not copied as it grows;
    // capacity never touched costs nothing.
    let text_len = text.as_ref().map_or(0, |t| t.len());
    html.reserve(3 * text_len + 600 * view.groups().len() + 4096);
    page::render(html, &view, &functions, source);
    staging.put_rendered(dest, html.as_bytes(), inputs)?;
    Ok(missing)
}

/// Where a file's source is read from (see the module documentation):
/// under the root when its display path is relative, else where it was
/// recorded.
fn source_path(ctx: &Context, file: u32) -> PathBuf {
    let display = ctx.display_path(file);
    match ctx.root().filter(|_| !paths::is_absolute(display)) {
        Some(root) => Path::new(root).join(display),
        None => PathBuf::from(ctx.cov.file_path(file)),
    }
}

/// The text of a file's source (invalid UTF-8 replaced), read into `buf`,
/// or where it was looked for and why it could not be read.
fn read_source<'b>(
    ctx: &Context,
    file: u32,
    buf: &'b mut Vec<u8>,
) -> std::result::Result<Cow<'b, str>, (PathBuf, String)> {
    let path = source_path(ctx, file);
    buf.clear();
    match std::fs::File::open(&path).and_then(|mut f| f.read_to_end(buf)) {
        // from_utf8_lossy walks chunk by chunk even over valid text;
        // validating first is several times faster.
        Ok(_) => Ok(match std::str::from_utf8(buf) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(buf),
        }),
        Err(e) => Err((path, e.to_string())),
    }
}
