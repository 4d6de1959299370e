#!/usr/bin/env python3
"""datatrove 0.10.1's MinHash (default MinhashConfig) with cluster ids and sizes, for thresher's test.

    minhash_cluster_reference.py IN.jsonl OUT.jsonl

Runs datatrove's four stages, one task each, with `MinhashDedupCluster(save_cluster_id=True,
save_cluster_size=True)` and `MinhashDedupFilter(load_cluster_ids=True, load_cluster_sizes=True)`,
and writes {"id", "removed", "minhash_cluster_id", "minhash_cluster_size"} per input document, in
input order. Needs `pip install datatrove[io,processing]==0.10.1 spacy==3.8.18`.
"""
import json
import os
import sys
import tempfile

import xxhash

# python-xxhash 4 refuses str, which datatrove 0.10.1 hashes (xxhash 3.x, pinned by
# ../shared/tools/setup-peers.sh, hashed its UTF-8 bytes): do that for the newer release.
for _name in ("xxh64_intdigest", "xxh32_intdigest"):
    _orig = getattr(xxhash, _name)
    setattr(xxhash, _name, lambda data, seed=0, _f=_orig: _f(data.encode("utf-8") if isinstance(data, str) else data, seed))

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.typeshelper import Languages


def main():
    inp, outp = (os.path.abspath(a) for a in sys.argv[1:3])
    work = tempfile.mkdtemp()
    config = MinhashConfig()

    def reader():
        return JsonlReader(os.path.dirname(inp), glob_pattern=os.path.basename(inp), recursive=False)

    stages = [
        [reader(), MinhashDedupSignature(output_folder=f"{work}/sig", config=config, language=Languages.english)],
        [MinhashDedupBuckets(input_folder=f"{work}/sig", output_folder=f"{work}/buckets", config=config)],
        [MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/ids", config=config,
                             save_cluster_id=True, save_cluster_size=True)],
        [reader(),
         MinhashDedupFilter(input_folder=f"{work}/ids", load_cluster_ids=True, load_cluster_sizes=True,
                            exclusion_writer=JsonlWriter(f"{work}/removed", compression=None)),
         JsonlWriter(f"{work}/kept", compression=None)],
    ]
    for i, pipeline in enumerate(stages):
        tasks = config.num_buckets if i == 1 else 1
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=f"{work}/logs{i}").run()
    found = {}
    for kind in ("removed", "kept"):
        d = f"{work}/{kind}"
        for fn in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, fn), encoding="utf-8") as f:
                for line in f:
                    rec = json.loads(line)
                    md = rec["metadata"]
                    found[rec["id"]] = {
                        "id": rec["id"],
                        "removed": kind == "removed",
                        "minhash_cluster_id": md["minhash_cluster_id"],
                        "minhash_cluster_size": md["minhash_cluster_size"],
                    }
    with open(inp, encoding="utf-8") as f, open(outp, "w", encoding="utf-8") as out:
        for line in f:
            if line.strip():
                out.write(json.dumps(found[json.loads(line)["id"]]) + "\n")


if __name__ == "__main__":
    main()
