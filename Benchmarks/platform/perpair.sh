#!/usr/bin/env bash
# The fluid model on many flows in one component ending at distinct times: an all-to-all shuffle
# on a star (one rack of N hosts, 10 Gbps host links, no oversubscription) where each pair sends
# its own size, 32 MiB x (1 + ((7 from + 13 to) mod 97) / 97), so completions are spread out and
# every one of them changes the rates of the flows that share a link with it.
# Prints hosts, flows, wall seconds and peak RSS (MB) of `bdsim run` for each N given.
# Usage: bash Benchmarks/platform/perpair.sh [N ...]   (default 50 100 200; `make release` first)
#        BDSIM=/path/to/other/bdsim bash Benchmarks/platform/perpair.sh 100   (another binary)
set -euo pipefail
source "$(dirname "$0")/../release-binary.sh"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(50 100 200)
printf "%6s %8s %9s %9s %12s\n" hosts flows wall_s rss_mb completion_s
for hosts in "${sizes[@]}"; do
  config="$scratch/perpair-$hosts.yaml"
  python3 - "$hosts" > "$config" <<'PY'
import sys
n = int(sys.argv[1])
print("name: perpair-shuffle")
print("model: transfer")
print("duration: 100h")
print(f"platform: {{racks: 1, hosts_per_rack: {n}, host_link: 10Gbps, oversubscription: 1}}")
print("params:")
print("  workload: list")
print("  transfers:")
for f in range(n):
    for t in range(n):
        if f != t:
            b = 33554432 * (97 + (7 * f + 13 * t) % 97) // 97
            print(f"    - {{from: rack1-host{f + 1}, to: rack1-host{t + 1}, bytes: {b}B}}")
PY
  out="$scratch/perpair-$hosts"
  /usr/bin/time -f "%e %M" -o "$scratch/time" "$bdsim" run "$config" --out "$out" --quiet --jobs 1
  read -r wall rss < "$scratch/time"
  python3 - "$out/runs.csv" "$hosts" "$wall" "$rss" <<'PY'
import csv, sys
row = list(csv.DictReader(open(sys.argv[1])))[0]
hosts, wall, rss = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"{hosts:6d} {int(float(row['transfer.flows'])):8d} {wall:9.2f} {rss / 1024:9.1f} {float(row['transfer.completion_time']):12.6f}")
PY
done
