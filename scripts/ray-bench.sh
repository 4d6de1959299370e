#!/bin/bash
# Overhead of the Ray executor against one `thresher run` process on this machine: the `default`
# recipe on the files given, `thresher run --threads 2`, then `thresher.ray` with a local 2-CPU
# Ray session (2 tasks of 1 thread), one after the other. Wall time from `date`, CPU time of
# every process of each run (Ray's daemons and workers included) from a cpuacct cgroup (root).
#   PY=python-with-thresher-and-ray THRESHER_BIN=thresher scripts/ray-bench.sh OUT part-*.jsonl
# RUNNING=1: the Ray job runs on a local cluster started (`ray start --head --num-cpus 2`) after
# the single run and stopped after the job, both outside the measurement (its CPU figure then
# counts the driver only: the workers are the cluster's).
set -euo pipefail
out=$1; shift
PY=${PY:-python3}
BIN=${THRESHER_BIN:-thresher}
cg=/sys/fs/cgroup/cpuacct/thresher-ray-bench-$$
measure() {  # name command...: runs the command in a fresh cgroup, prints wall and CPU seconds
  local name=$1; shift
  mkdir "$cg-$name"
  local t0; t0=$(date +%s.%N)
  (echo $BASHPID > "$cg-$name/cgroup.procs"; "$@")
  local t1; t1=$(date +%s.%N)
  sleep 2  # let Ray's daemons exit and be counted
  local cpu; cpu=$(cat "$cg-$name/cpuacct.usage")
  printf '%s wall %.1f s  cpu %.1f s  (load average %s)\n' "$name" "$(echo "$t1 - $t0" | bc)" \
    "$(echo "$cpu / 1000000000" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  rmdir "$cg-$name" 2>/dev/null || true
}
rm -rf "$out/single" "$out/ray"
measure single "$BIN" run default -i "$@" -o "$out/single" -q --threads 2
if [ "${RUNNING:-0}" = 1 ]; then
  RAY=$(dirname "$PY")/ray
  "$RAY" start --head --num-cpus 2 --include-dashboard=false --disable-usage-stats >/dev/null 2>&1
  sleep 3
  THRESHER_BIN=$BIN measure ray "$PY" -m thresher.ray run default -i "$@" -o "$out/ray" --tasks 2 \
    --threads 1 -q --address auto
  "$RAY" stop >/dev/null 2>&1
else
  THRESHER_BIN=$BIN measure ray "$PY" -m thresher.ray run default -i "$@" -o "$out/ray" --tasks 2 --threads 1 -q
fi
"$PY" - "$out" <<'PY'
import json, sys
a, b = (json.load(open(f"{sys.argv[1]}/{k}/stats.json")) for k in ("single", "ray"))
for k in ("in", "kept", "rejected", "errors"):
    print(k, a[k], b[k], "same" if a[k] == b[k] else "DIFFERENT")
PY
