//! The runtime's own source files, so covwrap can compile the runtime with
//! the user's rustc wherever covwrap is installed. A test checks that every
//! file under src/ is listed.

/// `(path relative to src/, contents)` of every source file of this crate.
pub const SOURCES: &[(&str, &str)] = &[
    ("lib.rs", include_str!("lib.rs")),
    ("sources.rs", include_str!("sources.rs")),
    ("format/mod.rs", include_str!("format/mod.rs")),
    ("format/bytes.rs", include_str!("format/bytes.rs")),
    ("format/counters.rs", include_str!("format/counters.rs")),
    ("format/crc32.rs", include_str!("format/crc32.rs")),
    ("format/defs.rs", include_str!("format/defs.rs")),
    ("format/dense.rs", include_str!("format/dense.rs")),
    ("format/dirfiles.rs", include_str!("format/dirfiles.rs")),
    ("format/elf.rs", include_str!("format/elf.rs")),
    ("format/error.rs", include_str!("format/error.rs")),
    ("format/from_elf.rs", include_str!("format/from_elf.rs")),
    ("format/kv.rs", include_str!("format/kv.rs")),
    ("format/leb128.rs", include_str!("format/leb128.rs")),
    ("format/md5.rs", include_str!("format/md5.rs")),
    ("format/meta.rs", include_str!("format/meta.rs")),
    ("format/names.rs", include_str!("format/names.rs")),
    ("rt/mod.rs", include_str!("rt/mod.rs")),
    ("rt/agent/mod.rs", include_str!("rt/agent/mod.rs")),
    ("rt/agent/exit.rs", include_str!("rt/agent/exit.rs")),
    ("rt/agent/run.rs", include_str!("rt/agent/run.rs")),
    ("rt/agent/wire/mod.rs", include_str!("rt/agent/wire/mod.rs")),
    (
        "rt/agent/wire/http.rs",
        include_str!("rt/agent/wire/http.rs"),
    ),
    (
        "rt/agent/wire/json.rs",
        include_str!("rt/agent/wire/json.rs"),
    ),
    ("rt/agent/wire/url.rs", include_str!("rt/agent/wire/url.rs")),
    ("rt/api.rs", include_str!("rt/api.rs")),
    ("rt/dense.rs", include_str!("rt/dense.rs")),
    ("rt/emit.rs", include_str!("rt/emit.rs")),
    ("rt/exec.rs", include_str!("rt/exec.rs")),
    ("rt/init.rs", include_str!("rt/init.rs")),
    ("rt/label.rs", include_str!("rt/label.rs")),
    ("rt/llvm.rs", include_str!("rt/llvm.rs")),
    ("rt/pool.rs", include_str!("rt/pool.rs")),
    ("rt/signals.rs", include_str!("rt/signals.rs")),
    ("rt/state.rs", include_str!("rt/state.rs")),
    ("rt/sys.rs", include_str!("rt/sys.rs")),
    ("rt/sys_map.rs", include_str!("rt/sys_map.rs")),
    ("rt/text.rs", include_str!("rt/text.rs")),
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(
                    path.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }

    #[test]
    fn every_source_file_is_listed_and_current() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut on_disk = Vec::new();
        walk(&src, &src, &mut on_disk);
        on_disk.sort();
        let mut listed: Vec<String> = super::SOURCES.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(
            listed, on_disk,
            "runtime/src/sources.rs must list every .rs file"
        );
        for (path, text) in super::SOURCES {
            assert_eq!(
                std::fs::read_to_string(src.join(path)).unwrap(),
                *text,
                "{path}"
            );
        }
    }
}
