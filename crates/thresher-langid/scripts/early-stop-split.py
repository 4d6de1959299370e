#!/usr/bin/env python3
"""Calibration of the early stop of language ID (src/detect.rs: SHORT_LEAD, LONG_LEAD,
EARLY_SCORE) with a split: choose on the even-numbered lines, check on the odd-numbered ones.

    cargo run --release -p thresher-langid --example langid_cascade -- --scores > cascade.tsv
    python3 crates/thresher-langid/scripts/early-stop-split.py cascade.tsv [T ...]

For each confidence threshold T (default 0.95 0.98) and each half of lingua's test sentences,
simulates the rule (after letters+bigrams for texts under 120 letters, then after trigrams:
stop when the leader's lead is at least SHORT_LEAD / LONG_LEAD and the extrapolated
confidence is at least T) on the per-language partial scores the example prints, and reports:
sentences that stop (after stage 0 / stage 1), answers that differ from the full method's,
and how far the early score is from the full method's (99th percentile, maximum, count above
0.05, count on the other side of FineWeb's 0.65).
"""
import math
import sys

SHORT_LEAD, LONG_LEAD, LONG_TEXT = 1.0, 20.0, 120


def parse_scores(field):
    out = {}
    for kv in filter(None, field.split(",")):
        k, v = kv.split(":")
        out[int(k)] = float(v)
    return out


def confidence(scores, scale):
    top = max(scores.values())
    return 1.0 / sum(math.exp(scale * (v - top)) for v in scores.values() if scale * (v - top) > -50)


def main():
    path = sys.argv[1]
    thresholds = [float(t) for t in sys.argv[2:]] or [0.95, 0.98]
    halves = {0: [], 1: []}
    for ln, line in enumerate(open(path, encoding="utf-8")):
        r = line.rstrip("\n").split("\t")
        if r[0] != "sentences" or len(r) < 15 or int(r[5]) < 25:
            continue
        stages = []
        for scale, scores, answer in ((r[11], r[12], r[7]), (r[13], r[14], r[3])):
            stages.append((float(scale), parse_scores(scores), answer))
        halves[ln % 2].append(dict(full=r[2], score=float(r[9]), short=int(r[5]) < LONG_TEXT, stages=stages))
    for t in thresholds:
        for half, name in ((0, "even"), (1, "odd")):
            stops, changed, errs, cross = [0, 0], 0, [], 0
            for d in halves[half]:
                for i, (scale, scores, answer) in enumerate(d["stages"]):
                    if not scores or math.isnan(scale) or (i == 0 and not d["short"]):
                        continue
                    vals = sorted(scores.values(), reverse=True)
                    lead = vals[0] - vals[1] if len(vals) > 1 else math.inf
                    if lead < (SHORT_LEAD if d["short"] else LONG_LEAD):
                        continue
                    c = confidence(scores, scale)
                    if c < t:
                        continue
                    stops[i] += 1
                    changed += answer != d["full"]
                    errs.append(abs(c - d["score"]))
                    cross += (c > 0.65) != (d["score"] > 0.65)
                    break
            errs.sort()
            p99 = errs[max(0, int(0.99 * len(errs)) - 1)] if errs else 0.0
            print(
                f"T={t} {name}: {len(halves[half])} sentences of 25+ letters with 4-grams; stop after "
                f"letters+bigrams {stops[0]}, after trigrams {stops[1]}; answers changed {changed}; "
                f"|early - full score| 99th pct {p99:.3f}, max {max(errs, default=0):.3f}, "
                f"> 0.05: {sum(e > 0.05 for e in errs)}, across 0.65: {cross}"
            )


if __name__ == "__main__":
    main()
