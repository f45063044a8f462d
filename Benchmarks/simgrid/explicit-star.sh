#!/usr/bin/env bash
# The star of run.sh written as an explicit topology with a listed route for every pair (what a
# SimGrid-style cluster needed before topology: cluster), against topology: cluster, on the
# equal shuffle; with BEFORE=another bdsim binary, that binary runs the explicit star too (side by
# side, same machine, one after the other). Prints wall time and peak RSS of each and checks that
# the completion times are identical.
#
# Usage: [BEFORE=/path/to/old/bdsim] bash Benchmarks/simgrid/explicit-star.sh [N ...]
#        (default N: 100, which an explicit topology of 10,000 routes at most could still list)
set -euo pipefail
source "$(dirname "$0")/../release-binary.sh"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100)
printf "%5s %-24s %9s %8s %12s %22s\n" hosts case wall_s rss_mb config_mb completion_s
for n in "${sizes[@]}"; do
  python3 - "$n" "$scratch/explicit.yaml" "$scratch/cluster.yaml" <<'PY'
import sys
n, explicit, cluster = int(sys.argv[1]), sys.argv[2], sys.argv[3]
head = "model: transfer\nduration: 2h\nreplications: 1\n"
params = "params: {workload: shuffle, bytes: 100MB}\n"
with open(explicit, "w") as f:
    f.write("name: explicit-star\n" + head + "platform:\n  topology: explicit\n  cores: 1\n")
    f.write("  hosts: [" + ", ".join(f"{{name: h{i}}}" for i in range(n)) + "]\n")
    f.write("  switches: [bb]\n  links:\n")
    for i in range(n):
        f.write(f"    - {{name: l{i}, between: [h{i}, bb], bandwidth: 1.25GB/s, latency: 0s}}\n")
    f.write("  routes:\n")
    for i in range(n):
        for j in range(n):
            if i != j:
                f.write(f"    - {{from: h{i}, to: h{j}, via: [l{i}, l{j}]}}\n")
    f.write(params)
with open(cluster, "w") as f:
    f.write("name: cluster-star\n" + head + "platform:\n  topology: cluster\n  cores: 1\n"
            f"  hosts_per_cabinet: {n}\n  host_link: 1.25GB/s\n  host_link_latency: 0s\n"
            "  backbone_sharing: fatpipe\n  backbone: 1.25GB/s\n  backbone_latency: 0s\n" + params)
PY
  # Without a backbone resource the explicit star is a crossbar: the cluster with a fatpipe
  # backbone as fast as the host links is the same network.
  mb=$(python3 -c "import os; print(f'{os.path.getsize(\"$scratch/explicit.yaml\") / 1e6:.1f}')")
  run() {  # label binary config
    rm -rf "$scratch/out"
    /usr/bin/time -f "%e %M" -o "$scratch/time" "$2" run "$3" --out "$scratch/out" --quiet --jobs 1
    read -r wall rss < <(tail -1 "$scratch/time")
    completion=$(python3 -c "import csv; print(list(csv.DictReader(open('$scratch/out/runs.csv')))[0]['transfer.completion_time'])")
    printf "%5s %-24s %9.2f %8.0f %12s %22s\n" "$n" "$1" "$wall" "$((rss / 1024))" "$4" "$completion"
  }
  if [ -n "${BEFORE:-}" ]; then run "explicit (BEFORE)" "$BEFORE" "$scratch/explicit.yaml" "$mb"; fi
  run "explicit" "$bdsim" "$scratch/explicit.yaml" "$mb"
  run "cluster (fatpipe)" "$bdsim" "$scratch/cluster.yaml" "-"
done
