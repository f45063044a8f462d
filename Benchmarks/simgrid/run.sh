#!/usr/bin/env bash
# BDSim against SimGrid on the same all-to-all shuffles (issue 18): a star of N hosts (SimGrid's
# <cluster> with a shared backbone; BDSim's topology: cluster), 1.25e9 B/s host links, a 25e9 B/s
# backbone, no latency, CM02 max-min without cross-traffic (SimGrid's default adds 5% reverse
# ACK traffic on every flow; BDSim has none), equal sizes (1e8 B per pair) and per-pair sizes
# (1e8 x (1 + ((31 i + 17 j) mod 97) / 97)), all flows started at 0. Each case runs SimGrid and
# BDSim one after the other and prints the completion times (and whether they agree to 1e-6
# relative), wall times and peak RSS of each, and BDSim/SimGrid ratios.
#
# Usage: bash Benchmarks/simgrid/run.sh [N ...]   (default: 100 200; run `make release` first)
# SimGrid is Debian's libsimgrid-dev (installed with apt-get if missing). Above
# SIMGRID_MAX_HOSTS hosts (default 200) only BDSim runs: SimGrid 3.32 took 44 s (equal) and 97 s
# (varied) at 200 hosts and grows faster than the square of the flows, so 400 would take hours.
set -euo pipefail
source "$(dirname "$0")/../release-binary.sh"
here="$(cd "$(dirname "$0")" && pwd)"
if ! dpkg -s libsimgrid-dev > /dev/null 2>&1; then
  echo "installing libsimgrid-dev" >&2
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y --no-install-recommends libsimgrid-dev >&2
fi
simgrid_version="$(dpkg-query -W -f='${Version}' libsimgrid-dev)"
g++ -O2 -std=c++17 -o "$scratch/shuffle" "$here/shuffle.cpp" -lsimgrid
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100 200)
echo "SimGrid $simgrid_version (libsimgrid-dev), bdsim $("$bdsim" --version 2>/dev/null || echo '?'), $(nproc) cores"
printf "%5s %7s %8s %22s %22s %6s %9s %9s %7s %8s %8s %7s\n" hosts sizes flows simgrid_completion_s \
  bdsim_completion_s agree sg_wall_s bd_wall_s wall_x sg_rss_mb bd_rss_mb rss_x
for n in "${sizes[@]}"; do
  for mode in equal varied; do
    cat > "$scratch/star.yaml" <<YAML
name: simgrid-star
model: transfer
duration: 2h
replications: 1
platform:
  topology: cluster
  hosts_per_cabinet: $n
  host_link: 1.25GB/s
  host_link_latency: 0s
  backbone: 25GB/s
  backbone_latency: 0s
  backbone_sharing: shared
  cores: 1
params: {workload: shuffle, bytes: 100MB, sizes: $mode}
YAML
    if [ "$n" -le "${SIMGRID_MAX_HOSTS:-200}" ]; then
      sg_line="$(SIMGRID_ARGS="--cfg=network/crosstraffic:0" "$scratch/shuffle" "$n" "$mode" 1e8)"
    else
      sg_line="completion_s=nan wall_s=nan rss_mb=nan flows=$((n * (n - 1)))"
    fi
    rm -rf "$scratch/out"
    /usr/bin/time -f "%e %M" -o "$scratch/bd.time" "$bdsim" run "$scratch/star.yaml" --out "$scratch/out" --quiet --jobs 1
    python3 - "$n" "$mode" "$sg_line" "$scratch/bd.time" "$scratch/out/runs.csv" <<'PY'
import csv, sys
n, mode, line, time_file, runs = sys.argv[1:6]
sg = dict(kv.split("=") for kv in line.split())
bd_wall, bd_rss_kb = open(time_file).read().split()[-2:]
row = list(csv.DictReader(open(runs)))[0]
bd = float(row["transfer.completion_time"])
sgc, sgw, sgr = float(sg["completion_s"]), float(sg["wall_s"]), float(sg["rss_mb"])
bdw, bdr = float(bd_wall), float(bd_rss_kb) / 1024
agree = "-" if sgc != sgc else "yes" if abs(bd - sgc) <= 1e-6 * abs(sgc) else "NO"
print(f"{int(n):5d} {mode:>7s} {int(sg['flows']):8d} {sgc:22.15g} {bd:22.15g} {agree:>6s} {sgw:9.2f} {bdw:9.2f} "
      f"{bdw / sgw:7.2f} {sgr:8.0f} {bdr:8.0f} {bdr / sgr:7.2f}")
PY
  done
done
