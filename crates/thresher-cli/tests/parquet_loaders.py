"""Helper of tests/parquet.rs: make a Hugging Face-style Parquet folder with pyarrow, and load
thresher's outputs with pyarrow, pandas, polars and datasets.

    python parquet_loaders.py convert DOCS.jsonl.gz HF_DIR
    python parquet_loaders.py load OUTDIR     # prints "<category> <library> <rows>" lines
"""

import glob
import gzip
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def convert(docs, hf_dir):
    """The documents in FineWeb's layout, in two files of several row groups (snappy, then zstd
    with a large-string text column and a dictionary-encoded `dump`), plus a dataset card and a
    damaged file, as a Hub folder has them."""
    rows = [json.loads(line) for line in gzip.open(docs, "rt", encoding="utf-8")]
    os.makedirs(os.path.join(hf_dir, "data"), exist_ok=True)
    with open(os.path.join(hf_dir, "README.md"), "w") as f:
        f.write("---\nlicense: odc-by\n---\n# A dataset card\n")
    half = len(rows) // 2
    for k, (part, compression, text_type) in enumerate(
        [(rows[:half], "snappy", pa.string()), (rows[half:], "zstd", pa.large_string())]
    ):
        table = pa.table(
            {
                "text": pa.array([r["text"] for r in part], type=text_type),
                "id": [r["id"] for r in part],
                "dump": pa.array(["CC-MAIN-2024-10"] * len(part)).dictionary_encode(),
                "url": [f"https://example.com/{k}/{i}" for i in range(len(part))],
                "date": ["2024-02-20T12:00:00Z"] * len(part),
                "file_path": ["s3://commoncrawl/crawl-data/x.warc.gz"] * len(part),
                "language": ["en"] * len(part),
                "language_score": pa.array(
                    [0.5 + (i % 100) / 256 for i in range(len(part))], type=pa.float64()
                ),
                "token_count": pa.array(
                    [len(r["text"].split()) for r in part], type=pa.int64()
                ),
            }
        )
        pq.write_table(
            table,
            os.path.join(hf_dir, "data", f"train-{k:05d}-of-00002.parquet"),
            row_group_size=700,
            compression=compression,
        )
    with open(os.path.join(hf_dir, "data", "train-zzzzz-damaged.parquet"), "wb") as f:
        f.write(b"PAR1" + b"\x00" * 64 + b"PAR1")


def shards(outdir, cat):
    files = sorted(glob.glob(os.path.join(outdir, cat, "[0-9]*")))
    kinds = {os.path.splitext(f)[1] for f in files}
    return files, ("parquet" if kinds == {".parquet"} else "json")


def load(outdir):
    import datasets
    import pandas as pd
    import polars as pl

    for cat in ["kept", "rejected", "errors"]:
        files, kind = shards(outdir, cat)
        if not files:
            print(f"{cat} none")
            continue
        if kind == "parquet":
            n = pa.concat_tables([pq.read_table(f) for f in files]).num_rows
            print(f"{cat} pyarrow {n}")
            print(f"{cat} pandas {len(pd.concat([pd.read_parquet(f) for f in files]))}")
            print(f"{cat} polars {pl.read_parquet(files).height}")
        else:
            import pyarrow.json as pj

            # Lines longer than the block size (1 MiB by default) need a larger one.
            opts = pj.ReadOptions(block_size=256 << 20)
            n = pa.concat_tables([pj.read_json(f, read_options=opts) for f in files]).num_rows
            print(f"{cat} pyarrow {n}")
            frames = [pd.read_json(f, lines=True) for f in files]
            print(f"{cat} pandas {len(pd.concat(frames))}")
            # polars infers from the first 100 rows unless told to read them all.
            frames = [pl.read_ndjson(f, infer_schema_length=None) for f in files]
            print(f"{cat} polars {pl.concat(frames, how='diagonal_relaxed').height}")
        ds = datasets.load_dataset(kind, data_files=files, split="train")
        print(f"{cat} datasets {ds.num_rows}")
        if cat == "rejected":
            # The fixed schema: value is a float column, value_text a string column.
            assert str(ds.features["value"].dtype) in ("float64", "int64"), ds.features
            assert str(ds.features["value_text"].dtype) in ("string", "null"), ds.features


if __name__ == "__main__":
    if sys.argv[1] == "convert":
        convert(sys.argv[2], sys.argv[3])
    else:
        load(sys.argv[2])
