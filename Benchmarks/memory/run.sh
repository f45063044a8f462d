#!/usr/bin/env bash
# Memory flat in simulated time (issue 15): runs a broker config and a quorum config at a
# duration T and at 10T and prints each run's peak resident memory (/usr/bin/time -f %M) and
# the ratio 10T / T; the target is below 1.5. Broker: 3 brokers, 6 partitions, replication 3,
# acks=all, 2 producers of 100k records/s of 100 B (200k records/s), T = 20 s. Quorum: 5 nodes,
# N=3, 10k requests/s (90% reads), T = 20 s.
# Usage: bash Benchmarks/memory/run.sh   (run `make release` first; BDSIM=path picks another
# binary, MODELS="broker" one model, T=seconds another T)
set -euo pipefail
if [ -n "${BDSIM:-}" ]; then
  bdsim="$BDSIM"
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
else
  source "$(dirname "$0")/../release-binary.sh"
fi
models="${MODELS:-broker quorum}"
t="${T:-20}"

config() {  # model duration_seconds
  case "$1" in
  broker)
    cat <<YAML
name: memory-broker
model: broker
duration: ${2}s
seed: 1
platform: {racks: 2, hosts_per_rack: 3}
params: {brokers: 3, partitions: 6, producers: 2, record_rate: 100k/s, record_size: 100B, acks: all}
YAML
    ;;
  quorum)
    cat <<YAML
name: memory-quorum
model: quorum
duration: ${2}s
seed: 1
platform: {racks: 2, hosts_per_rack: 4}
params:
  nodes: 5
  replication: 3
  keys: 10000
  clients:
    - {name: clients, hosts: [rack2-host2, rack2-host3, rack2-host4], rate: 10k/s, read_fraction: 0.9}
YAML
    ;;
  esac
}

printf "%-8s %8s %12s %12s %8s\n" model T_s peak_T_MiB peak_10T_MiB ratio
for model in $models; do
  peaks=()
  for seconds in "$t" "$((t * 10))"; do
    config "$model" "$seconds" > "$scratch/$model.yaml"
    /usr/bin/time -f "%M" -o "$scratch/time" "$bdsim" run "$scratch/$model.yaml" --out "$scratch/out-$model-$seconds" \
      --quiet --jobs 1
    peaks+=("$(tail -1 "$scratch/time")")
  done
  python3 -c "import sys; a, b = int(sys.argv[2]), int(sys.argv[3]); print(f'{sys.argv[1]:8s} {int(sys.argv[4]):8d} {a / 1024:12.1f} {b / 1024:12.1f} {b / a:8.2f}')" \
    "$model" "${peaks[0]}" "${peaks[1]}" "$t"
done
