#!/usr/bin/env python3
"""Python package figures (docs/python.md): Pipeline.process docs/s on one core against the
`thresher` command on one core and against datatrove's own filters (the same four, FineWeb's
settings) in this process, and two Python threads calling process against one.

Every figure is given in wall time and in CPU time (this process's, or the command's): on a
machine shared with other jobs the CPU figures are the ones to compare.

Usage (after `maturin develop --release` or `pip install .` into the active environment):
    python scripts/py-bench.py [../shared/reference/datatrove-filters/docs.jsonl.gz]
THRESHER_CLI=target/release/thresher compares with the cargo-built command (default: the
package's own `thresher` command, the same Rust code run from the native module).
Run it under `taskset -c 0` for the one-core figures; the two-thread figure needs 2 cores, so
the script pins itself per measurement (os.sched_setaffinity).
"""

import gzip
import json
import os
import resource
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


def cli_cpu(f):
    """The best (wall, CPU) of REPEAT runs of a child process: CPU is the children's user+sys."""
    times = []
    for _ in range(REPEAT):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        f()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        times.append((time.perf_counter() - t0, cpu))
    return min(times)


def datatrove_filters(docs):
    """datatrove's own filters for the fineweb recipe, run on Documents in this process; returns
    the (wall, CPU) seconds of the best of REPEAT passes and the number kept."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    filters = [GopherRepetitionFilter(), GopherQualityFilter(),
               C4QualityFilter(filter_no_terminal_punct=False), FineWebQualityFilter()]
    documents = [Document(text=d["text"], id=d["id"], metadata=dict(d.get("metadata") or {}))
                 for d in docs]
    kept = 0

    def once():
        nonlocal kept
        kept = 0
        for doc in documents:
            for f in filters:
                r = f.filter(doc)
                if (r[0] if isinstance(r, tuple) else r) is False:
                    break
            else:
                kept += 1

    return best(once, cpu=True), kept


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
    (w_arrow, c_arrow) = best(lambda: [p.process(t) for t in tables], cpu=True)
    (w_dicts, c_dicts) = best(lambda: [p.process(b) for b in batches], cpu=True)
    exe = os.environ.get("THRESHER_CLI") or Path(sys.executable).parent / "thresher"
    with tempfile.TemporaryDirectory() as tmp:
        def cli():
            subprocess.run([str(exe), "run", RECIPE, "-i", str(path), "-o", tmp, "--threads", "1",
                            "-q", "--overwrite"], check=True)
        (w_cli, c_cli) = cli_cpu(cli)
    print(f"one core, docs/s (wall | CPU): Pipeline.process pyarrow {n / w_arrow:,.0f} | "
          f"{n / c_arrow:,.0f}; dicts {n / w_dicts:,.0f} | {n / c_dicts:,.0f}; "
          f"thresher run --threads 1 {n / w_cli:,.0f} | {n / c_cli:,.0f} (reads the .gz, writes "
          f"the output; {exe}); pyarrow/CLI = {w_cli / w_arrow:.2f} (wall), "
          f"{c_cli / c_arrow:.2f} (CPU)")
    sub = docs[: int(os.environ.get("PY_BENCH_DATATROVE_DOCS", "1000"))]
    sub_tables = [pa.Table.from_pylist(sub[i:i + BATCH]) for i in range(0, len(sub), BATCH)]
    (w_dt, c_dt), kept_dt = datatrove_filters(sub)
    (w_th, c_th) = best(lambda: [thresher.Pipeline(RECIPE).process(t) for t in sub_tables], cpu=True)
    kept_th = sum(thresher.Pipeline(RECIPE).process(t).kept.num_rows for t in sub_tables)
    print(f"one core, first {len(sub)} docs: datatrove filters {len(sub) / w_dt:,.1f} docs/s wall, "
          f"{len(sub) / c_dt:,.1f} CPU (kept {kept_dt}); Pipeline.process pyarrow "
          f"{len(sub) / w_th:,.0f} wall, {len(sub) / c_th:,.0f} CPU (kept {kept_th}); "
          f"thresher/datatrove = {w_dt / w_th:.0f}x (wall), {c_dt / c_th:.0f}x (CPU)")

    # Two Python threads, each with its own pipeline, against one thread doing all the batches.
    os.sched_setaffinity(0, set(cores))
    if len(cores) >= 2:
        pipes = [thresher.Pipeline(RECIPE), thresher.Pipeline(RECIPE)]
        # Each thread's share: the corpus ROUNDS times (about a second a round on one core), so
        # that a scheduling hiccup is a small part of the figure.
        rounds = int(os.environ.get("PY_BENCH_THREAD_ROUNDS", "3"))
        for name, items in (("pyarrow", tables * rounds), ("dicts", batches * rounds)):
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
            # CPU/wall is the cores the process got: 2.0 means both threads ran all along (the
            # GIL did not serialise them); CPU per doc says the threads did no extra work.
            print(f"two threads vs one ({name}, 2 x {n * rounds} docs): wall {w1:.2f}s vs {w2:.2f}s: "
                  f"speed-up {w1 / w2:.2f}x; CPU/wall {c1 / w1:.2f} vs {c2 / w2:.2f}; "
                  f"CPU s {c1:.2f} vs {c2:.2f}; loadavg {os.getloadavg()}")

        # The control: the same work as two processes (no GIL shared at all). Whatever the two
        # processes lose against 2.0x is the machine's (shared caches, memory bandwidth, other
        # jobs), not the binding's; the threads' figure is to be read against this one.
        def in_child(k):
            pid = os.fork()
            if pid == 0:
                for t in tables * rounds:
                    pipes[k].process(t)
                os._exit(0)
            return pid

        def one_child_twice():
            pid = os.fork()
            if pid == 0:
                for t in tables * (2 * rounds):
                    pipes[0].process(t)
                os._exit(0)
            os.waitpid(pid, 0)

        def two_children():
            for pid in [in_child(0), in_child(1)]:
                os.waitpid(pid, 0)

        p1, p2 = best(one_child_twice), best(two_children)
        print(f"control, two processes vs one (pyarrow, 2 x {n * rounds} docs): wall {p1:.2f}s vs "
              f"{p2:.2f}s: speed-up {p1 / p2:.2f}x; loadavg {os.getloadavg()}")


if __name__ == "__main__":
    main()
