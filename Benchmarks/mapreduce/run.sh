#!/usr/bin/env bash
# Issue 8's scale target: a sort of 1 TB on 1,800 hosts (45 racks of 40, 10 Gbps host links, 4:1
# oversubscribed uplinks) with 15,000 maps (1 GB files in 64 MiB blocks) and 4,000 reduces, in
# minutes, not hours. Prints the wall time, the simulated job time and the events.
# Usage: bash Benchmarks/mapreduce/run.sh   (run `make release` first)
set -euo pipefail
source "$(dirname "$0")/../release-binary.sh"
cat > "$scratch/sort.yaml" <<'YAML'
name: sort-1tb
model: mapreduce
duration: 10h
seed: 1
platform: {racks: 45, hosts_per_rack: 40, host_link: 10Gbps, oversubscription: 4}
params: {job: sort, input_size: 1TB, input_file_size: 1GB, blocksize: 64MiB, reduces: 4000, output_replication: 1}
YAML
/usr/bin/time -f "%e %M" -o "$scratch/time" "$bdsim" run "$scratch/sort.yaml" --out "$scratch/out" --quiet --jobs 1
python3 - "$scratch/out/runs.csv" "$scratch/time" <<'PY'
import csv, sys
row = list(csv.DictReader(open(sys.argv[1])))[0]
wall, peak_kib = open(sys.argv[2]).read().split()[-2:]
print(f"maps {int(float(row['mapreduce.maps']))}, reduces {int(float(row['mapreduce.reduces']))}: "
      f"simulated job {float(row['mapreduce.job_seconds']):.1f} s, wall {float(wall):.1f} s, "
      f"{int(float(row['simulator.events']))} events, peak {int(peak_kib) / 1024:.0f} MiB")
PY
