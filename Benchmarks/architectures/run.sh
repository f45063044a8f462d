#!/usr/bin/env bash
# The architectures' cost to simulate: one run of each architecture of
# experiments/lambda-vs-kappa.yaml (2 hours of 2,000 events/s: 14.4 million events, each
# followed through the log, the stream job and the store; 100 queries/s; Lambda's 4 MapReduce
# runs over 186 GB; Kappa's replay of 185 million events), one run at a time. Prints the wall time,
# how much faster than real time, the simulator's events and the peak memory of each.
# Usage: bash Benchmarks/architectures/run.sh   (run `make release` first)
set -euo pipefail
source "$(dirname "$0")/../release-binary.sh"
for architecture in lambda kappa; do
  # The experiment up to its sweep (params last), one replication, this architecture, every metric.
  sed -e '/^sweep:/,$d' -e 's/^replications: .*/replications: 1/' "$root/experiments/lambda-vs-kappa.yaml" \
    > "$scratch/$architecture.yaml"
  echo "  architecture: $architecture" >> "$scratch/$architecture.yaml"
  /usr/bin/time -f "%e %M" -o "$scratch/time-$architecture" "$bdsim" run "$scratch/$architecture.yaml" \
    --out "$scratch/$architecture" --quiet --jobs 1
  python3 - "$scratch/$architecture/runs.csv" "$scratch/time-$architecture" "$architecture" <<'PY'
import csv, sys
row = list(csv.DictReader(open(sys.argv[1])))[0]
wall, peak_kib = open(sys.argv[2]).read().split()[-2:]
wall = float(wall)
print(f"{sys.argv[3]}: 7200 s simulated in {wall:.1f} s of wall time ({7200 / wall:.0f}x real time), "
      f"{int(float(row['simulator.events']))} events, peak {int(peak_kib) / 1024:.0f} MiB")
PY
done
