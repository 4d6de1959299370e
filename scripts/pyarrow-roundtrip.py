#!/usr/bin/env python3
"""The pyarrow baseline of docs/parquet.md: read every row group of a Parquet file and write it
back, in one process, with the compression thresher writes (zstd level 3 by default).

    python scripts/pyarrow-roundtrip.py IN.parquet OUT.parquet [CODEC [LEVEL]] [--lean]

Row groups of at most 10,000 rows, as thresher's. pyarrow's defaults otherwise (a dictionary
tried on every column, statistics on every column) unless `--lean`: no dictionary and no
statistics, the least work pyarrow can do for the same bytes in and out.
"""
import sys

import pyarrow.parquet as pq


def main(argv):
    lean = "--lean" in argv
    args = [a for a in argv if a != "--lean"]
    src, dst = args[0], args[1]
    codec = args[2] if len(args) > 2 else "zstd"
    level = int(args[3]) if len(args) > 3 else (3 if codec == "zstd" else None)
    f, w = pq.ParquetFile(src), None
    for i in range(f.num_row_groups):
        t = f.read_row_group(i)
        if w is None:
            extra = {"use_dictionary": False, "write_statistics": False} if lean else {}
            w = pq.ParquetWriter(dst, t.schema, compression=codec, compression_level=level, **extra)
        w.write_table(t, row_group_size=10_000)
    w.close()


if __name__ == "__main__":
    main(sys.argv[1:])
