#!/usr/bin/env bash
# The runner's own costs, measured with the release binary:
#  1. speedup of --jobs 2 over --jobs 1 on a sweep of 200 short runs (sweep-200.yaml);
#  2. per-run overhead (spec, record, aggregation): the same 200 runs with a 1-second duration,
#     so that the model's own work is negligible, divided by the number of runs;
#  3. peak memory (max RSS) for 200 and for 2000 runs: aggregation streams, so it stays flat.
# Usage: bash Benchmarks/sweep/run.sh   (from anywhere; builds nothing: run `make release` first)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$(dirname "$0")/../release-binary.sh"
config="$here/sweep-200.yaml"

seconds() { # seconds of wall time of a command, from bash's TIMEFORMAT
  local TIMEFORMAT=%R
  { time "$@" >/dev/null 2>&1; } 2>&1
}
maxrss() { # peak resident memory in MiB
  /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.1f", $1/1024}'
}

"$bdsim" run "$config" --out "$scratch/warm" --quiet  # warm the file cache
t1=$(seconds "$bdsim" run "$config" --out "$scratch/j1" --jobs 1 --quiet)
t2=$(seconds "$bdsim" run "$config" --out "$scratch/j2" --jobs 2 --quiet)
cmp -s "$scratch/j1/runs.csv" "$scratch/j2/runs.csv" && same=identical || same=DIFFERENT
t0=$(seconds "$bdsim" run "$config" --out "$scratch/short" --jobs 1 --quiet --set duration=1s --set warmup=0s --set outputs.timeseries_interval=1s)
m200=$(maxrss "$bdsim" run "$config" --out "$scratch/m200" --jobs 2 --quiet --set duration=10s --set warmup=0s)
m2000=$(maxrss "$bdsim" run "$config" --out "$scratch/m2000" --jobs 2 --quiet --set duration=10s --set warmup=0s --set replications=100)

echo "sweep of 200 runs ($config)"
printf "  --jobs 1: %ss   --jobs 2: %ss   speedup %.2fx   (runs.csv %s)\n" "$t1" "$t2" "$(echo "$t1 / $t2" | bc -l)" "$same"
printf "  per-run overhead (200 runs of 1 simulated second, --jobs 1): %.2f ms\n" "$(echo "$t0 * 1000 / 200" | bc -l)"
echo "  peak memory: 200 runs ${m200} MiB, 2000 runs ${m2000} MiB"
