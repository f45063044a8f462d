#!/usr/bin/env bash
# How the fluid model's cost grows with the number of concurrent flows: an all-to-all shuffle of
# 25, 50, 100 and 200 hosts (5 racks, 4:1 oversubscription, 64 MiB per pair: F = H(H-1) flows)
# on the release binary. Prints wall time, events, solves and solver work (resources plus
# activities visited) per flow change (each flow starts once and ends once).
# Usage: bash Benchmarks/platform/run.sh   (run `make release` first)
set -euo pipefail
source "$(dirname "$0")/../release-binary.sh"
cat > "$scratch/shuffle.yaml" <<'YAML'
name: shuffle-scaling
model: transfer
duration: 1h
platform: {racks: 5, hosts_per_rack: 5, host_link: 10Gbps, oversubscription: 4}
params: {workload: shuffle, bytes: 64MiB}
YAML
printf "%6s %8s %9s %9s %7s %12s %14s %10s\n" hosts flows wall_s events solves solver_work work/change us/flow
for per_rack in 5 10 20 40; do
  hosts=$((5 * per_rack))
  out="$scratch/h$hosts"
  start=$(date +%s.%N)
  "$bdsim" run "$scratch/shuffle.yaml" --out "$out" --quiet --jobs 1 --set platform.hosts_per_rack=$per_rack
  end=$(date +%s.%N)
  python3 - "$out/runs.csv" "$hosts" "$start" "$end" <<'PY'
import csv, sys
row = list(csv.DictReader(open(sys.argv[1])))[0]
hosts, wall = int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
flows = float(row["transfer.flows"])
work = float(row["platform.solver_work"])
print(f"{hosts:6d} {int(flows):8d} {wall:9.3f} {int(float(row['simulator.events'])):9d} {int(float(row['platform.solves'])):7d} "
      f"{int(work):12d} {work / (2 * flows):14.2f} {wall / flows * 1e6:10.2f}")
PY
done
