#!/usr/bin/env bash
# Issue 5's performance target: 3 brokers, 1,000,000 records/s of 1 KiB, 10 simulated minutes,
# at least 10x faster than real time on one core. 5 producers of 200k records/s each, 30
# partitions, replication 3, acks=all; 25 Gbps host links and NVMe-class disks (so that the
# cluster keeps up: each broker receives and writes 1 GB/s). Run three ways: Kafka 4's default
# batching (batch.size 16 KiB, linger.ms 5), 64 KiB batches, and Confluent's tuning for
# throughput (batch.size 100000-200000, linger.ms 10-100: here 200 kB and 10 ms). Prints wall time, the speed-up over real time, events, batches a second and the
# peak memory. DURATION=60s shortens every run.
# Usage: bash Benchmarks/broker/run.sh   (run `make release` first)
set -euo pipefail
source "$(dirname "$0")/../release-binary.sh"
duration="${DURATION:-10m}"
cat > "$scratch/broker.yaml" <<YAML
name: broker-1m
model: broker
duration: $duration
seed: 1
platform: {racks: 2, hosts_per_rack: 4, host_link: 25Gbps, disk_write: 2GB/s}
params: {brokers: 3, partitions: 30, producers: 5, record_rate: 200k/s, record_size: 1KiB, acks: all}
YAML
printf "%-22s %9s %9s %8s %11s %12s %8s %10s\n" batching wall_s sim_s x_real events records/s p99_ms peak_MiB
for setting in "16KiB 5ms" "64KiB 5ms" "200KB 10ms"; do
  set -- $setting
  out="$scratch/$1"
  /usr/bin/time -f "%e %M" -o "$scratch/time" "$bdsim" run "$scratch/broker.yaml" --out "$out" --quiet --jobs 1 \
    --set params.batch_size=$1 --set params.linger=$2
  python3 - "$out/runs.csv" "$scratch/time" "batch $1, linger $2" <<'PY'
import csv, sys
row = list(csv.DictReader(open(sys.argv[1])))[0]
wall, peak_kib = open(sys.argv[2]).read().split()[-2:]
wall = float(wall)
rate = float(row["broker.produce_throughput_records"])
sim = float(row["broker.records_acked"]) / rate if rate > 0 else float("nan")
print(f"{sys.argv[3]:22s} {wall:9.1f} {sim:9.0f} {sim / wall:8.1f} {int(float(row['simulator.events'])):11d} "
      f"{rate:12.0f} {float(row['broker.produce_latency_p99']) * 1e3:8.2f} {int(peak_kib) / 1024:10.0f}")
PY
done
