#!/usr/bin/env python3
"""Distributed connected components against the single-process union-find (issue 20).

Generates a synthetic MinHash candidate graph (`cc::synthetic_candidate_graph`: NODES documents
in heavy-tailed clusters, EDGES edges, deterministic), written as round 0 of the components
folder by WORKERS pairs tasks; clusters it once with the single-process union-find (`cc_graph
single`) and once with WORKERS `thresher cc-round` processes per round (run side by side, as
Ray would, until a round converges); checks that both give every node the same label (the
smallest node of its component, and the component's size: a canonical labelling); prints peak
RSS (from wait4), CPU and wall time of the single process and of each worker.

    cargo build -p thresher-cli --no-default-features
    cargo build -p thresher-dedup --example cc_graph
    python3 scripts/cc-bench.py --dir /tmp/ccb --nodes 10000000 --edges 50000000 --workers 4 \
        --bin $CARGO_TARGET_DIR/debug/thresher --graph $CARGO_TARGET_DIR/debug/examples/cc_graph
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def measured(cmds):
    """Runs the commands side by side; returns, per command, its JSON output, peak RSS (MiB)
    and CPU seconds (user + system), and the wall time of the lot."""
    t0 = time.time()
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in cmds]
    outs = {}
    for p in procs:
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            sys.exit(f"{' '.join(p.args)}: exit {code}")
        outs[p.pid] = (json.loads(out), ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime)
    return [outs[p.pid] for p in procs], time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="work folder (emptied)")
    ap.add_argument("--nodes", type=int, default=10_000_000)
    ap.add_argument("--edges", type=int, default=50_000_000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--memory-mb", type=int, default=128, help="each worker's sort buffer")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", default="thresher", help="the thresher command")
    ap.add_argument("--graph", required=True, help="the cc_graph example program")
    a = ap.parse_args()
    d = Path(a.dir)
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    cc = d / "cc"
    (gen,), wall = measured([[a.graph, "gen", str(cc), str(a.nodes), str(a.edges), str(a.workers), str(a.seed)]])
    print(f"graph: {gen[0]} in {wall:.1f} s", flush=True)

    (single,), single_wall = measured([[a.graph, "single", str(cc), str(a.workers), str(d / "single.bin")]])
    print(f"single process: {single[0]}; peak RSS {single[1]:.0f} MiB, CPU {single[2]:.1f} s, "
          f"wall {single_wall:.1f} s", flush=True)

    peak = [0.0] * a.workers
    cpu = [0.0] * a.workers
    wall_total = 0.0
    rnd = 0
    while True:
        res, wall = measured([[a.bin, "cc-round", "--cc-dir", str(cc), "--round", str(rnd), "--part",
                               f"{k}/{a.workers}", "--memory-mb", str(a.memory_mb)] for k in range(a.workers)])
        wall_total += wall
        for k, (_, rss, c) in enumerate(res):
            peak[k] = max(peak[k], rss)
            cpu[k] += c
        records = sum(r[0]["records_in"] for r in res)
        print(f"round {rnd} ({'large' if rnd % 2 == 0 else 'small'}-star): {records} records in, "
              f"{sum(r[0]['records_out'] for r in res)} out, max degree {max(r[0]['max_degree'] for r in res)}, "
              f"spills {sum(r[0]['spills'] for r in res)}, RSS {[round(r[1]) for r in res]} MiB, wall {wall:.1f} s",
              flush=True)
        if rnd > 0:
            shutil.rmtree(cc / f"r-{rnd:05d}")  # this round's input; round 0 (the graph) stays
        rnd += 1
        if all(r[0]["converged"] for r in res):
            break
    (cmp,), _ = measured([[a.graph, "compare", str(cc), str(rnd), str(d / "single.bin")]])
    print(f"compare: {cmp[0]}")
    print(json.dumps({
        "nodes": a.nodes, "edges": gen[0]["edges"], "clusters": gen[0]["clusters"], "largest": gen[0]["largest"],
        "workers": a.workers, "rounds": rnd, "same_components": cmp[0]["same"],
        "single": {"peak_rss_mib": round(single[1]), "cpu_s": round(single[2], 1), "wall_s": round(single_wall, 1)},
        "workers_peak_rss_mib": [round(x) for x in peak], "workers_cpu_s": [round(x, 1) for x in cpu],
        "distributed_wall_s": round(wall_total, 1),
    }))
    return 0 if cmp[0]["same"] and max(peak) < single[1] else 1


if __name__ == "__main__":
    sys.exit(main())
