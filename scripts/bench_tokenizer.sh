#!/usr/bin/env bash
# Throughput of thresher's English word tokenizer next to `wc -w` on the same bytes, same session.
#   scripts/bench_tokenizer.sh [RUNS]     (from the repository root; needs ../shared, python3, GNU time)
#
# The reference documents' texts are written to a temporary file (one after another, each followed by
# "\n") for `wc -w`; the tokenizer reads the same texts from docs.jsonl.gz into memory first. CPU time
# (user + sys) is used rather than wall time, because the machine is shared: for the tokenizer, the
# time of a run with 0 passes (loading only) is subtracted from a run with 3 passes. The minimum over
# RUNS interleaved runs is reported.
set -euo pipefail
RUNS="${1:-5}"
DOCS=../shared/reference/datatrove-filters/docs.jsonl.gz
[ -f "$DOCS" ] || { echo "skipping: $DOCS absent"; exit 0; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --release -p thresher-text --example tokbench
BIN="$CARGO_TARGET_DIR/release/examples/tokbench"
TXT="$(mktemp)"
trap 'rm -f "$TXT"' EXIT
python3 - "$DOCS" "$TXT" <<'PY'
import gzip, json, sys
with gzip.open(sys.argv[1], "rt", encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as w:
    for line in f:
        w.write(json.loads(line)["text"])
        w.write("\n")
PY
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
load=(); tok=(); wc_utf8=(); wc_c=()
for _ in $(seq "$RUNS"); do
  load+=("$(cpu "$BIN" "$DOCS" 0)")
  tok+=("$(cpu "$BIN" "$DOCS" 3)")
  wc_utf8+=("$(LC_ALL=C.UTF-8 cpu wc -w "$TXT")")
  wc_c+=("$(LC_ALL=C cpu wc -w "$TXT")")
done
min() { printf "%s\n" "$@" | sort -g | head -1; }
BYTES=$(python3 - "$DOCS" <<'PY'
import gzip, json, sys
print(sum(len(json.loads(l)["text"].encode()) for l in gzip.open(sys.argv[1], "rt", encoding="utf-8")))
PY
)
python3 - "$BYTES" "$(stat -c %s "$TXT")" "$(min "${load[@]}")" "$(min "${tok[@]}")" "$(min "${wc_utf8[@]}")" "$(min "${wc_c[@]}")" <<'PY'
import sys
doc_bytes, txt_bytes = int(sys.argv[1]), int(sys.argv[2])
load, tok3, wc_u, wc_c = map(float, sys.argv[3:7])
per = max((tok3 - load) / 3, 1e-9)
print(f"tokenizer (spacy_en_3.8_v1): {per:.3f} s CPU per pass over {doc_bytes/1e6:.1f} MB = {doc_bytes/per/1e6:.0f} MB/s")
print(f"wc -w, C.UTF-8 locale:       {wc_u:.3f} s CPU over {txt_bytes/1e6:.1f} MB = {txt_bytes/wc_u/1e6:.0f} MB/s")
print(f"wc -w, C locale:             {wc_c:.3f} s CPU = {txt_bytes/wc_c/1e6:.0f} MB/s")
print(f"tokenizer speed / wc -w speed: {wc_u/per:.2f}x (C.UTF-8), {wc_c/per:.2f}x (C)")
PY
