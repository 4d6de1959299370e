#!/usr/bin/env python3
"""Reference values for thresher's `text_length`, `word_count` (whitespace) and `regex_filter`.

    bounds_reference.py IN.jsonl[.gz] OUT.jsonl PATTERN...

For each record of IN, writes {"id", "len": len(text), "split": len(text.split()),
"regex": [datatrove 0.10.1 RegexFilter(PATTERN).filter(doc) for each PATTERN]} (true: kept).
Needs `pip install datatrove==0.10.1`; crates/thresher-filters/tests/it/bounds.rs runs it.
"""
import gzip
import json
import sys

from datatrove.data import Document
from datatrove.pipeline.filters.regex_filter import RegexFilter


def main():
    src, dst, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
    filters = [RegexFilter(p) for p in patterns]
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt", encoding="utf-8") as inp, open(dst, "w", encoding="utf-8") as out:
        for line in inp:
            rec = json.loads(line)
            doc = Document(text=rec["text"], id=rec["id"])
            row = {
                "id": rec["id"],
                "len": len(doc.text),
                "split": len(doc.text.split()),
                "regex": [bool(f.filter(doc)) for f in filters],
            }
            out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
