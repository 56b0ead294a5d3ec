//! Reading the report's HTML (as written, or as Chromium dumps it) and
//! the files around it, for tests/html.rs.

use std::collections::BTreeMap;
use std::path::Path;

/// The value of attribute `name` in the start tag `tag` (`name="v"`,
/// `name=v` or absent).
pub fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=");
    let at = tag.find(&needle)? + needle.len();
    let rest = &tag[at..];
    if let Some(q) = rest.strip_prefix('"') {
        q.split('"').next()
    } else {
        rest.split([' ', '>']).next()
    }
}

/// Start tags `<NAME ...>` of `html`, in order, each with the text up to
/// the next start tag of the same name.
pub fn elements<'a>(html: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        if !after.starts_with([' ', '>']) {
            rest = after;
            continue;
        }
        let end = after.find('>').unwrap();
        let tag = &rest[i..i + open.len() + end + 1];
        let body_start = i + open.len() + end + 1;
        let next = rest[body_start..]
            .find(&open)
            .map_or(rest.len(), |j| body_start + j);
        out.push((tag, &rest[body_start..next]));
        rest = &rest[next..];
    }
    out
}

/// (covered, total) of every `data-c`/`data-t` cell in `row`.
pub fn ratios(row: &str) -> Vec<(u64, u64)> {
    elements(row, "td")
        .into_iter()
        .chain(elements(row, "span"))
        .filter_map(|(tag, _)| {
            let c = attr(tag, "data-c")?.parse().ok()?;
            let t = attr(tag, "data-t")?.parse().ok()?;
            Some((c, t))
        })
        .collect()
}

/// The `<tfoot>` total row of an index.
pub fn total_row(index: &str) -> &str {
    let at = index.find("id=\"total\"").expect("a total row");
    &index[at..at + index[at..].find("</tr>").unwrap()]
}

/// Line → count of the mapped lines of a file page, from its source rows.
pub fn page_counts(page: &str) -> BTreeMap<u32, u64> {
    let mut counts = BTreeMap::new();
    for (tag, body) in elements(page, "tr") {
        let Some(id) = attr(tag, "id").and_then(|i| i.strip_prefix('L')) else {
            continue;
        };
        let line: u32 = id.parse().unwrap();
        let cell = body.split("<td").nth(1).unwrap();
        let (td, text) = cell.split_once('>').unwrap();
        let text = text.split('<').next().unwrap();
        if text.is_empty() {
            continue;
        }
        let count = match attr(&format!("<td{td}>"), "data-n") {
            Some(n) => n.parse().unwrap(),
            None => text.parse().unwrap(),
        };
        counts.insert(line, count);
    }
    counts
}

/// The source row of `line` in a file page (its start tag and cells).
pub fn line_row(page: &str, line: u32) -> (String, String) {
    let id = format!("L{line}");
    elements(page, "tr")
        .into_iter()
        .find(|(tag, _)| attr(tag, "id") == Some(id.as_str()))
        .map(|(t, b)| (t.to_string(), b.to_string()))
        .unwrap_or_else(|| panic!("no row {id}"))
}

/// SF path → (DA line → count) of an LCOV tracefile.
pub fn lcov_lines(lcov: &str) -> BTreeMap<String, BTreeMap<u32, u64>> {
    let mut files = BTreeMap::new();
    let mut current = None;
    for line in lcov.lines() {
        if let Some(sf) = line.strip_prefix("SF:") {
            current = Some(sf.to_string());
            files.insert(sf.to_string(), BTreeMap::new());
        } else if let Some(da) = line.strip_prefix("DA:") {
            let (l, c) = da.split_once(',').unwrap();
            files
                .get_mut(current.as_ref().unwrap())
                .unwrap()
                .insert(l.parse().unwrap(), c.parse().unwrap());
        }
    }
    files
}

/// Page file (under files/) of each file row of an index, by display path.
pub fn index_pages(index: &str) -> BTreeMap<String, String> {
    elements(index, "tr")
        .into_iter()
        .filter(|(tag, _)| attr(tag, "class").is_some_and(|c| c.starts_with("file")))
        .map(|(tag, body)| {
            let path = attr(tag, "data-path").unwrap().to_string();
            let href = body.split("href=\"files/").nth(1).unwrap();
            (path, href.split('"').next().unwrap().to_string())
        })
        .collect()
}

pub fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A file row of a dumped index: (path, hidden, ratios).
pub type DomRow = (String, bool, Vec<(u64, u64)>);

/// The file rows of a dumped index in DOM order.
pub fn dom_file_rows(dom: &str) -> Vec<DomRow> {
    elements(dom, "tr")
        .into_iter()
        .filter(|(tag, _)| attr(tag, "class").is_some_and(|c| c.starts_with("file")))
        .map(|(tag, body)| {
            let class = attr(tag, "class").unwrap();
            (
                attr(tag, "data-path").unwrap().to_string(),
                class.split(' ').any(|c| c == "hidden"),
                ratios(body),
            )
        })
        .collect()
}
