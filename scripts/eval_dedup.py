#!/usr/bin/env python3
"""Scores near-duplicate removals against planted ground truth, and compares two removal sets.

  python3 scripts/eval_dedup.py CORPUS.jsonl --removed NAME=FILE [--removed NAME2=FILE2 ...]

CORPUS.jsonl.truth.jsonl (from scripts/make_dedup_corpus.py) lists {"id", "original", "kind", "k"}
pairs. Ground-truth groups are the connected components of those pairs (an original with its
copies). For a removal set R:
  TP = sum over groups G of min(|R & G|, |G| - 1)   (removing all but one member is right;
                                                     removing every member over-removes)
  precision = TP / |R|, recall = TP / sum(|G| - 1)
  pair recall by kind/k: a planted pair counts as caught when either member is removed
  (the definition ../shared/tools/datatrove_minhash.py uses).
With two or more sets, also prints the agreement of each with the first: the share of all
documents on which both made the same remove/keep decision.
"""

import argparse
import json
from collections import defaultdict


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--removed", action="append", required=True, help="NAME=FILE (one id per line)")
    ap.add_argument("--json", help="write the scores here")
    args = ap.parse_args()

    ids = [json.loads(line)["id"] for line in open(args.corpus, encoding="utf-8") if line.strip()]
    truth = [json.loads(line) for line in open(args.corpus + ".truth.jsonl", encoding="utf-8")]
    parent = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for t in truth:
        a, b = find(t["id"]), find(t["original"])
        if a != b:
            parent[a] = b
    groups = defaultdict(set)
    for t in truth:
        for x in (t["id"], t["original"]):
            groups[find(x)].add(x)
    positives = sum(len(g) - 1 for g in groups.values())

    sets = []
    for spec in args.removed:
        name, _, path = spec.partition("=")
        sets.append((name, {line.strip() for line in open(path, encoding="utf-8") if line.strip()}))

    out = {"docs": len(ids), "groups": len(groups), "should_remove": positives, "results": {}}
    for name, rem in sets:
        tp = sum(min(len(rem & g), len(g) - 1) for g in groups.values())
        over = sum(1 for g in groups.values() if g <= rem)
        by_kind = defaultdict(lambda: [0, 0])
        for t in truth:
            key = t["kind"] + (f" k={t['k']}" if t.get("k") else "")
            by_kind[key][1] += 1
            if t["id"] in rem or t["original"] in rem:
                by_kind[key][0] += 1
        res = {
            "removed": len(rem),
            "true_positives": tp,
            "precision": round(tp / len(rem), 4) if rem else None,
            "recall": round(tp / positives, 4) if positives else None,
            "groups_fully_removed": over,
            "pair_recall_by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items(),
                                    key=lambda kv: (kv[0].split(" k=")[0], int(kv[0].split("k=")[1]) if "k=" in kv[0] else 0))},
        }
        if sets and name != sets[0][0]:
            first = sets[0][1]
            differ = len(first ^ rem)
            res["agreement_with_" + sets[0][0]] = {
                "same_decision_docs": len(ids) - differ,
                "share": round((len(ids) - differ) / len(ids), 5),
                "only_in_" + sets[0][0]: sorted(first - rem)[:20],
                "only_in_" + name: sorted(rem - first)[:20],
            }
        out["results"][name] = res
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        open(args.json, "w").write(text)


if __name__ == "__main__":
    main()
