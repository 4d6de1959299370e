#!/usr/bin/env python3
"""Cuts the texts of a JSONL corpus into pieces of at most N characters, one document each, for
the short-text Parquet bench of docs/parquet.md (many rows, little text per row). Each piece
keeps its document's `metadata.source` (an empty string when there is none), so every row has
the same columns once converted with scripts/jsonl-to-parquet.py.

usage: split-texts.py IN.jsonl OUT.jsonl [N [MAX_IN_BYTES]]   (defaults: 400, 250,000,000)
"""
import json
import sys


def main(src, dst, n=400, limit=250_000_000):
    read = 0
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            d = json.loads(line)
            text, source = d["text"], (d.get("metadata") or {}).get("source", "")
            for i in range(0, len(text), n):
                piece = {"id": f"{d['id']}-{i}", "text": text[i : i + n], "metadata": {"source": source}}
                out.write(json.dumps(piece) + "\n")
            read += len(line)
            if read > limit:
                break


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *map(int, sys.argv[3:5]))
