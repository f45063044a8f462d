#!/usr/bin/env bash
# Memory flat in simulated time (issues 15 and 18): runs each model that runs for a duration at a
# duration T and at 10T and prints each run's peak resident memory (/usr/bin/time -f %M), its
# wall time and the ratio 10T / T of the peaks; the target is at most 1.5. One run at a time.
#   broker    3 brokers, 6 partitions, replication 3, acks=all, 2 producers of 100k records/s
#             of 100 B (200k records/s); T = 20 s
#   quorum    AP: 5 nodes, N=3, 10k requests/s (90% reads); T = 20 s
#   quorum-cp the same in CP mode (a Raft group per key range, 16 ranges); T = 20 s
#   hdfs      the model's default workload (TestDFSIO-style clients) on 2 racks of 4; T = 20 s
#   stream    5k events/s of 1 KiB over 1,000 keys, 8 partitions, 10 s windows, checkpoints
#             every 30 s, 100 queries/s (stream-guarantees without its fault); T = 60 s
#   lambda    experiments/lambda-vs-kappa.yaml's workload at 2k events/s with no history and no
#             fault, a batch run every 2 min, the loader every 10 s; T = 60 s
#   kappa     the same as Kappa without a reprocessing (a pending replay holds the whole
#             retained log by design); T = 60 s
#   transfer  an all-to-all shuffle of 64 MiB on 2 racks of 4 (it ends early: memory must not
#             follow the idle time); T = 20 s
#   queueing  M/M/1 at utilisation 0.5, 1 s service; T = 2 h
# Then memory flat across runs: each config at T with a time series (a sample every T/20), as 2
# and as 12 replications run one after another (--jobs 1): a run whose entities outlive it (a
# reference cycle through the simulator) shows as a peak that grows with the runs; the target
# is at most 1.2.
# Usage: bash Benchmarks/memory/run.sh   (run `make release` first; BDSIM=path picks another
# binary, MODELS="broker stream" some models, T=seconds one T for all, ACROSS=0 skips the second
# table)
set -euo pipefail
source "$(dirname "$0")/../release-binary.sh"
models="${MODELS:-broker quorum quorum-cp hdfs stream lambda kappa transfer queueing}"

base_seconds() {  # model
  if [ -n "${T:-}" ]; then echo "$T"; return; fi
  case "$1" in
  stream | lambda | kappa) echo 60 ;;
  queueing) echo 7200 ;;
  *) echo 20 ;;
  esac
}

quorum() {  # duration_seconds mode
  cat <<YAML
name: memory-quorum
model: quorum
duration: ${1}s
seed: 1
platform: {racks: 2, hosts_per_rack: 4}
params:
  mode: $2
  nodes: 5
  replication: 3
  keys: 10000
  clients:
    - {name: clients, hosts: [rack2-host2, rack2-host3, rack2-host4], rate: 10k/s, read_fraction: 0.9}
YAML
}

lambda_kappa() {  # duration_seconds architecture
  cat <<YAML
name: memory-$2
model: lambda-kappa
duration: ${1}s
seed: 41
platform: {racks: 2, hosts_per_rack: 8, host_link: 10Gbps}
params:
  architecture: $2
  events: {rate: 2k/s, size: 1KiB, keys: 1000, key_distribution: zipf, key_skew: 0.99, arrival_delay: "exp(mean: 1s)"}
  log: {partitions: 8, replication: 3, retention: 7d}
  job: {parallelism: 4, window: 1min, max_out_of_orderness: 2s, checkpoint_interval: 1min, guarantee: exactly_once}
  serving: {query_rate: 100/s, threads: 8}
  batch: {period: 2min, loader_interval: 10s, engine: mapreduce, mapreduce: {job: wordcount, reduces: 16}}
  hosts: {workers: [rack1-host5, rack1-host6, rack1-host7, rack1-host8]}
YAML
}

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
  quorum) quorum "$2" ap ;;
  quorum-cp) quorum "$2" cp ;;
  hdfs)
    cat <<YAML
name: memory-hdfs
model: hdfs
duration: ${2}s
seed: 1
platform: {racks: 2, hosts_per_rack: 4}
YAML
    ;;
  stream)
    cat <<YAML
name: memory-stream
model: stream
duration: ${2}s
seed: 53
platform: {racks: 2, hosts_per_rack: 6, host_link: 10Gbps}
params:
  events: {rate: 5k/s, size: 1KiB, keys: 1000, arrival_delay: "exp(mean: 200ms)"}
  log: {partitions: 8, replication: 3}
  job: {parallelism: 4, window: 10s, max_out_of_orderness: 1s, checkpoint_interval: 30s}
  serving: {query_rate: 100/s}
YAML
    ;;
  lambda) lambda_kappa "$2" lambda ;;
  kappa) lambda_kappa "$2" kappa ;;
  transfer)
    cat <<YAML
name: memory-transfer
model: transfer
duration: ${2}s
seed: 1
platform: {racks: 2, hosts_per_rack: 4}
params: {workload: shuffle, bytes: 64MiB}
YAML
    ;;
  queueing)
    cat <<YAML
name: memory-queueing
model: queueing
duration: ${2}s
seed: 1
params: {service: "exp(mean: 1s)", servers: 1, utilisation: 0.5}
YAML
    ;;
  *) echo "unknown model $1" >&2; exit 2 ;;
  esac
}

printf "%-9s %8s %12s %12s %8s %9s %9s\n" model T_s peak_T_MiB peak_10T_MiB ratio wall_T_s wall_10T_s
for model in $models; do
  t="$(base_seconds "$model")"
  results=()
  for seconds in "$t" "$((t * 10))"; do
    config "$model" "$seconds" > "$scratch/$model.yaml"
    /usr/bin/time -f "%M %e" -o "$scratch/time" "$bdsim" run "$scratch/$model.yaml" \
      --out "$scratch/out-$model-$seconds" --quiet --jobs 1
    results+=("$(tail -1 "$scratch/time")")
  done
  python3 -c "
import sys
(a, wa), (b, wb) = (r.split() for r in sys.argv[3:5])
a, b = int(a), int(b)
print(f'{sys.argv[1]:9s} {int(sys.argv[2]):8d} {a / 1024:12.1f} {b / 1024:12.1f} {b / a:8.2f} {float(wa):9.1f} {float(wb):9.1f}')" \
    "$model" "$t" "${results[0]}" "${results[1]}"
done

[ "${ACROSS:-1}" = 0 ] && exit 0
echo
printf "%-9s %8s %14s %15s %8s\n" model T_s peak_2runs_MiB peak_12runs_MiB ratio
for model in $models; do
  t="$(base_seconds "$model")"
  results=()
  for runs in 2 12; do
    { config "$model" "$t"; printf 'replications: %d\noutputs: {timeseries_interval: %ss}\n' "$runs" "$((t / 20))"; } \
      > "$scratch/$model-runs.yaml"
    /usr/bin/time -f "%M" -o "$scratch/time" "$bdsim" run "$scratch/$model-runs.yaml" \
      --out "$scratch/runs-$model-$runs" --quiet --jobs 1
    results+=("$(tail -1 "$scratch/time")")
  done
  python3 -c "
import sys
a, b = int(sys.argv[3]), int(sys.argv[4])
print(f'{sys.argv[1]:9s} {int(sys.argv[2]):8d} {a / 1024:14.1f} {b / 1024:15.1f} {b / a:8.2f}')" \
    "$model" "$t" "${results[0]}" "${results[1]}"
done
