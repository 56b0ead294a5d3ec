"""docs/BENCHMARKS.md is shared by several bench scripts: each owns the text
between `<!-- NAME:begin -->` and `<!-- NAME:end -->` and leaves the rest of
the file alone. This module is the one place that rewrites such a region.
"""

import os
import sys

DOC_HEADER = """# Benchmarks

Each section below is produced by a script under `bench/` and sits between
`<!-- NAME:begin -->` and `<!-- NAME:end -->` markers. A script rewrites only
its own region; text outside the markers is kept, so sections can be added
by hand or by other scripts.
"""


def replace_region(path, name, text):
    """Puts `text` between the NAME markers of the file at `path` (appended
    when the markers are missing; the file is created with the common
    header when it does not exist), through a temporary file and a rename."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    region = f"{begin}\n{text}{end}\n"
    if os.path.exists(path):
        with open(path) as f:
            doc = f.read()
    else:
        doc = DOC_HEADER
    if begin in doc and end in doc and doc.index(begin) < doc.index(end):
        i, j = doc.index(begin), doc.index(end) + len(end)
        if doc[j : j + 1] == "\n":
            j += 1
        doc = doc[:i] + region + doc[j:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + region
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)
    print(f"wrote {path}", file=sys.stderr)
