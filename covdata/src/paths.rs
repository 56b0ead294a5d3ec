//! Path handling as LLVM does it for coverage filename tables (POSIX
//! style), plus making report paths relative to a root.

/// True for POSIX absolute paths.
pub fn is_absolute(path: &str) -> bool {
    path.starts_with('/')
}

/// LLVM's `sys::path::append` followed by `remove_dots(.., true)`: joins a
/// relative table entry to the compilation directory and removes `.` and
/// `x/..` components. A `..` that would climb above `/` is dropped; a
/// leading `..` of a relative path is kept.
pub fn join_normalized(base: &str, relative: &str) -> String {
    let joined = if base.is_empty() {
        relative.to_string()
    } else if base.ends_with('/') {
        format!("{base}{relative}")
    } else {
        format!("{base}/{relative}")
    };
    remove_dots(&joined)
}

/// LLVM's `sys::path::remove_dots(path, remove_dot_dot = true)`, POSIX.
pub fn remove_dots(path: &str) -> String {
    let absolute = is_absolute(path);
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        match part {
            "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push(part);
                }
            }
            _ => parts.push(part),
        }
    }
    let mut out = String::with_capacity(path.len());
    if absolute {
        out.push('/');
    }
    out.push_str(&parts.join("/"));
    out
}

/// `path` relative to `root` when it lies under it, else `path` unchanged.
pub fn relative_to<'a>(path: &'a str, root: &str) -> &'a str {
    let root = root.trim_end_matches('/');
    if root.is_empty() {
        return path;
    }
    match path.strip_prefix(root) {
        Some(rest) if rest.starts_with('/') && rest.len() > 1 => &rest[1..],
        _ => path,
    }
}

/// Whether `path` is `dir` or lies under it.
pub fn is_within(path: &str, dir: &str) -> bool {
    path.trim_end_matches('/') == dir.trim_end_matches('/') || relative_to(path, dir) != path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_llvm() {
        assert_eq!(join_normalized(".", "./main.rs"), "main.rs");
        assert_eq!(join_normalized("/w/ex", "src/../lib.rs"), "/w/ex/lib.rs");
        assert_eq!(join_normalized("/w", "../../x.rs"), "/x.rs");
        assert_eq!(join_normalized("w", "../../x.rs"), "../x.rs");
        assert_eq!(join_normalized("/w//a/", "b/./c.rs"), "/w/a/b/c.rs");
        assert_eq!(join_normalized("", "a.rs"), "a.rs");
    }

    #[test]
    fn relative_only_under_root() {
        assert_eq!(relative_to("/ws/src/a.rs", "/ws"), "src/a.rs");
        assert_eq!(relative_to("/ws/src/a.rs", "/ws/"), "src/a.rs");
        assert_eq!(relative_to("/wsx/a.rs", "/ws"), "/wsx/a.rs");
        assert_eq!(relative_to("/other/a.rs", "/ws"), "/other/a.rs");
        assert_eq!(relative_to("a.rs", ""), "a.rs");
        assert!(is_within("/ws/src", "/ws") && is_within("/ws/", "/ws"));
        assert!(!is_within("/wsx", "/ws") && !is_within("/ws", "/ws/src"));
    }
}
