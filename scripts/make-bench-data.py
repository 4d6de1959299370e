#!/usr/bin/env python3
"""Builds a JSONL benchmark input of at least SIZE_MB from real text.

Source: ../shared/reference/datatrove-filters/docs.jsonl.gz (4,563 real web documents) and the
repo's fixtures/sample/*.jsonl. The documents are repeated until the size is reached; every copy
gets a new id, and two copies in three get a short line appended, so that about a third of the
output are exact duplicates of an earlier document (what exact_dedup is for) and the rest are
distinct texts.

usage: make-bench-data.py OUT.jsonl [SIZE_MB]
"""
import gzip
import json
import pathlib
import sys

here = pathlib.Path(__file__).resolve().parent.parent
out = pathlib.Path(sys.argv[1])
size = int(sys.argv[2]) * 1_000_000 if len(sys.argv) > 2 else 1_100_000_000

docs = []
ref = here.parent / "shared/reference/datatrove-filters/docs.jsonl.gz"
if ref.exists():
    with gzip.open(ref, "rt", encoding="utf-8") as f:
        docs += [json.loads(l) for l in f if l.strip()]
for p in sorted((here / "fixtures/sample").glob("*.jsonl")):
    docs += [json.loads(l) for l in p.read_text(encoding="utf-8").splitlines() if l.strip()]
if not docs:
    sys.exit("no source documents found")

written = 0
copy = 0
with out.open("w", encoding="utf-8") as f:
    while written < size:
        for i, d in enumerate(docs):
            text = d.get("text") or ""
            if copy % 3:
                text = f"{text}\nCopy {copy}."
            line = json.dumps(
                {"id": f"{copy}-{i}", "text": text, "metadata": d.get("metadata") or {}},
                ensure_ascii=False,
            )
            f.write(line + "\n")
            written += len(line.encode()) + 1
            if written >= size:
                break
        copy += 1
print(f"{out}: {written / 1e6:.0f} MB, {copy} passes over {len(docs)} documents")
