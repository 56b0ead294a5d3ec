"""Small helpers shared by the bench/ report scripts: their results
directories (an `info` file of `key value` lines, other line files) and
the docs/BENCHMARKS.md region each one writes (through doc_region).
"""

import os
import sys

import doc_region


def read_info(results):
    """The `key value` lines of RESULTS/info, as a dict."""
    info = {}
    with open(os.path.join(results, "info")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition(" ")
            info[key] = value
    return info


def result_lines(results, name):
    """The non-blank lines of RESULTS/NAME (none when it is absent)."""
    path = os.path.join(results, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def publish(text, doc, region):
    """Prints the section and, when `doc` is given, puts it in its region."""
    sys.stdout.write(text)
    if doc:
        doc_region.replace_region(doc, region, text)
