#!/usr/bin/env python3
"""Two Python threads calling Pipeline.process against one, beside the same work as two
processes against one, in alternating pairs (docs/python.md). On a shared virtual machine one
run says little: the pairs' medians are the figures, and the processes (no GIL, no shared
process state) show what the machine itself allows two workers.

    python scripts/gil-pairs.py [PAIRS] [DOCS.jsonl.gz]     (after maturin develop --release)
"""
import gzip
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa

import thresher

PAIRS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
PATH = Path(sys.argv[2] if len(sys.argv) > 2 else
            Path(__file__).resolve().parents[1].parent / "shared/reference/datatrove-filters/docs.jsonl.gz")
SHARE = 3  # each worker's share: the corpus three times (about 1.5 s on one core)

with gzip.open(PATH, "rt", encoding="utf-8") as f:
    docs = [json.loads(line) for line in f]
tables = [pa.Table.from_pylist(docs[i:i + 1000]) for i in range(0, len(docs), 1000)]


def timed(f):
    t0, c0 = time.perf_counter(), os.times()
    f()
    c1 = os.times()
    cpu = sum(c1[:4]) - sum(c0[:4])  # this process and its waited-for children
    return time.perf_counter() - t0, cpu


def threads(n):
    pipes = [thresher.Pipeline("fineweb") for _ in range(n)]

    def work(k):
        for t in tables * (SHARE * 2 // n):
            pipes[k].process(t)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def processes(n):
    pids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            p = thresher.Pipeline("fineweb")
            for t in tables * (SHARE * 2 // n):
                p.process(t)
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)


for kind, run in (("threads", threads), ("processes", processes)):
    speed, cpu = [], []
    for _ in range(PAIRS):
        (w1, c1), (w2, c2) = timed(lambda: run(1)), timed(lambda: run(2))
        speed.append(w1 / w2)
        cpu.append(c2 / c1)
    print(f"two {kind} vs one (2 x {SHARE} x {len(docs)} docs, {PAIRS} pairs): speed-up median "
          f"{statistics.median(speed):.2f}x (pairs {', '.join(f'{s:.2f}' for s in speed)}); "
          f"CPU of two / one median {statistics.median(cpu):.2f}; loadavg {os.getloadavg()}")
