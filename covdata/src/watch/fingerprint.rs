//! "Coverage changed" for `covdata watch`: a digest of everything the
//! reports print about the kept files, so a round writes exactly when some
//! report would come out different. It covers the LCOV tracefile (paths,
//! functions and their counts, every mapped line's count, branches,
//! summaries) and each file's merged regions with their spans and counts
//! (what textfmt, json and html show beyond LCOV). File times, the order
//! runs arrived in and data outside `--pkg` and the file filter do not
//! count. MD5 is plenty for telling two states apart, and gives the same
//! digest in every process, so it can be kept across restarts.

use std::io::{self, Write};

use covwrap_rt::format::md5::{hex, Md5};

use crate::report::{lcov, Context};

/// The digest of the coverage `ctx` reports, as hex.
pub fn fingerprint(ctx: &Context) -> String {
    // The tracefile, then every file's path and regions: each view is
    // built once, its regions kept aside until the tracefile is hashed.
    let mut sink = Digest(Md5::new());
    let mut regions = Vec::new();
    for view in ctx.file_views() {
        lcov::write_file(ctx, &view, &mut sink).expect("hashing never fails");
        regions.extend_from_slice(view.display_path().as_bytes());
        for r in view.regions() {
            let words = [
                u64::from(r.line_start),
                u64::from(r.col_start),
                u64::from(r.line_end),
                u64::from(r.col_end),
                r.kind as u64,
                r.count,
            ];
            for w in words {
                regions.extend_from_slice(&w.to_le_bytes());
            }
        }
    }
    sink.0.update(&regions);
    hex(&sink.0.finish())
}

/// Everything written to it goes into the digest.
struct Digest(Md5);

impl Write for Digest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A digest of any text (the configuration a state was written with).
pub fn of_text(text: &str) -> String {
    let mut d = Md5::new();
    d.update(text.as_bytes());
    hex(&d.finish())
}
