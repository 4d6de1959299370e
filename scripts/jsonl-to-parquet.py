#!/usr/bin/env python3
"""Converts a JSONL corpus (`{"id", "text", "metadata": {...}}` per line) to Parquet with
pyarrow, for the Parquet benchmarks (docs/parquet.md): columns `text`, `id` (a string) and one
per metadata key; snappy, 5,000 rows per row group (what `datasets` and many Hub files use).

    python scripts/jsonl-to-parquet.py IN.jsonl OUT.parquet
"""
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def main(src, dst):
    writer, batch = None, []

    def flush():
        nonlocal writer, batch
        if batch:
            table = pa.Table.from_pylist(batch)
            writer = writer or pq.ParquetWriter(dst, table.schema, compression="snappy")
            writer.write_table(table.cast(writer.schema), row_group_size=5000)
            batch = []

    with open(src, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            batch.append({"text": r["text"], "id": str(r["id"]), **r.get("metadata", {})})
            if len(batch) == 5000:
                flush()
    flush()
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
