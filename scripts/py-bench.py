#!/usr/bin/env python3
"""Python package figures (docs/python.md): Pipeline.process docs/s on one core against the
`thresher` command on one core, and two Python threads calling process against one.

Usage (after `maturin develop --release` or `pip install .` into the active environment):
    python scripts/py-bench.py [../shared/reference/datatrove-filters/docs.jsonl.gz]
Run it under `taskset -c 0` for the one-core figures; the two-thread figure needs 2 cores, so
the script pins itself per measurement (os.sched_setaffinity).
"""

import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow as pa

import thresher

RECIPE = "fineweb"
BATCH = 1000
REPEAT = 3


def best(f, cpu=False):
    """The best wall time of REPEAT calls (and, with cpu, the process CPU time of that call)."""
    times = []
    for _ in range(REPEAT):
        c0, t0 = time.process_time(), time.perf_counter()
        f()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    wall, c = min(times)
    return (wall, c) if cpu else wall


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else
                Path(__file__).resolve().parents[1].parent / "shared/reference/datatrove-filters/docs.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    n = len(docs)
    batches = [docs[i:i + BATCH] for i in range(0, n, BATCH)]
    tables = [pa.Table.from_pylist(b) for b in batches]
    cores = sorted(os.sched_getaffinity(0))
    print(f"{n} docs, {sum(len(d['text']) for d in docs) / 1e6:.1f} MB of text; cpus {os.cpu_count()}, "
          f"affinity {cores}, loadavg {os.getloadavg()}")

    one = {cores[0]}
    os.sched_setaffinity(0, one)
    p = thresher.Pipeline(RECIPE)
    t_arrow = best(lambda: [p.process(t) for t in tables])
    t_dicts = best(lambda: [p.process(b) for b in batches])
    exe = Path(sys.executable).parent / "thresher"
    with tempfile.TemporaryDirectory() as tmp:
        def cli():
            subprocess.run([str(exe), "run", RECIPE, "-i", str(path), "-o", tmp, "--threads", "1",
                            "-q", "--overwrite"], check=True)
        t_cli = best(cli)
    print(f"one core: Pipeline.process pyarrow {n / t_arrow:,.0f} docs/s, dicts {n / t_dicts:,.0f} docs/s; "
          f"thresher run --threads 1 {n / t_cli:,.0f} docs/s (wall, reading the .gz included); "
          f"pyarrow/CLI = {t_cli / t_arrow:.2f}")

    # Two Python threads, each with its own pipeline, against one thread doing all the batches.
    os.sched_setaffinity(0, set(cores))
    if len(cores) >= 2:
        pipes = [thresher.Pipeline(RECIPE), thresher.Pipeline(RECIPE)]
        for name, items in (("pyarrow", tables), ("dicts", batches)):
            def serial():
                for t in items + items:
                    pipes[0].process(t)

            def threaded():
                def work(k):
                    for t in items:
                        pipes[k].process(t)
                ts = [threading.Thread(target=work, args=(k,)) for k in range(2)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()

            (w1, c1), (w2, c2) = best(serial, cpu=True), best(threaded, cpu=True)
            print(f"two threads vs one ({name}, 2 x {n} docs): wall {w1:.2f}s vs {w2:.2f}s: "
                  f"speed-up {w1 / w2:.2f}x; CPU/wall {c1 / w1:.2f} vs {c2 / w2:.2f}; "
                  f"loadavg {os.getloadavg()}")


if __name__ == "__main__":
    main()
