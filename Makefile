# BDSim: the set-up, demo, test and benchmark commands. `make help` lists them.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

SWIFT ?= swift
BDSIM_RELEASE := .build/release/bdsim
.PHONY: help deps build release demo validation validate-published test test-fast bench bench-baseline format lint clean

help:
	@echo "make deps      install GSL (libgsl-dev) if pkg-config cannot find it"
	@echo "make demo      build (release), run experiments/quickstart.yaml, print its table, write CSV and plots/quickstart.png"
	@echo "make validation  the kernel's queueing-theory validation table (results/queueing-validation/)"
	@echo "make validate-published  the broker, quorum store, Spark and MapReduce against published measurements (experiments/validation/, table in docs/VALIDATION.md)"
	@echo "make plots     (re)draw plots/quickstart.png (Python venv in plots/.venv)"
	@echo "make test      run the whole test suite (debug build)"
	@echo "make test-fast the suite without the long statistical checks"
	@echo "make bench     PHOLD against a C++ loop and SimPy, sweeps, the fluid model, the broker at 1M records/s, a 1 TB sort, Lambda and Kappa runs, then the kernel micro-benchmarks"
	@echo "make format    format Sources and Tests with swift format"

# GSL is the only system library BDSim needs. As root it is installed; otherwise we say how.
deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists gsl; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing GSL (libgsl-dev) and pkg-config with apt-get..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgsl-dev pkg-config >/dev/null; \
	  else \
	    echo "BDSim needs the GNU Scientific Library. Install it with:"; \
	    echo "    sudo apt-get update && sudo apt-get install -y libgsl-dev pkg-config"; \
	    exit 2; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product bdsim

# The quickstart sweep: re-running it reproduces the committed results byte for byte (--resume
# makes a second `make demo` instant), then the plot.
demo: release
	$(BDSIM_RELEASE) run experiments/quickstart.yaml --resume
	@$(MAKE) --no-print-directory plots

validation: release
	@mkdir -p results/queueing-validation
	$(BDSIM_RELEASE) validate-queueing --replications 10 --duration 20000s --warmup 1000s --seed 1 \
	  --csv results/queueing-validation/validation.csv
	$(BDSIM_RELEASE) run experiments/queueing-validation.yaml --resume

# The systems against published measurements: each experiments/validation/*.yaml runs as `run
# --resume` runs it (committed results are reused), and the table in docs/VALIDATION.md is rewritten.
validate-published: release
	$(BDSIM_RELEASE) validate-published --markdown docs/VALIDATION.md

test: deps
	$(SWIFT) test

test-fast: deps
	$(SWIFT) test --skip closedFormsLieInsideSimulatedConfidenceIntervals

bench: release
	SKIP_SWIFT_BUILD=1 bash Benchmarks/baseline/compare-phold.sh
	bash Benchmarks/sweep/run.sh
	bash Benchmarks/platform/run.sh
	bash Benchmarks/broker/run.sh
	bash Benchmarks/mapreduce/run.sh
	bash Benchmarks/architectures/run.sh
	bash Benchmarks/run.sh

bench-baseline: release
	SKIP_SWIFT_BUILD=1 bash Benchmarks/baseline/compare-phold.sh

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

lint:
	$(SWIFT) format lint -r Sources Tests Package.swift

clean:
	rm -rf .build

# Plots of result directories (plots/README.md). A Python venv in plots/.venv holds the pinned
# packages; it is (re)filled only when plots/requirements.txt is newer than its stamp. The
# quickstart sweep is run only if its results are missing, then drawn to plots/quickstart.png.
PLOTS_VENV := plots/.venv
PLOTS_STAMP := $(PLOTS_VENV)/.requirements.stamp

.PHONY: plots
plots: $(PLOTS_STAMP)
	@if [ ! -f results/quickstart/summary.csv ]; then \
	  if [ ! -x $(BDSIM_RELEASE) ]; then $(MAKE) release || exit $$?; fi; \
	  echo "$(BDSIM_RELEASE) run experiments/quickstart.yaml"; \
	  $(BDSIM_RELEASE) run experiments/quickstart.yaml || exit $$?; \
	fi
	$(PLOTS_VENV)/bin/python plots/plot_sweep.py results/quickstart \
	  --metric station.station.response_mean --x utilisation --also theory.response_mean \
	  --logy --out plots/quickstart.png
	@if [ -f results/shuffle-oversubscription/summary.csv ]; then \
	  echo "plots/shuffle-oversubscription.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/shuffle-oversubscription \
	    --metric transfer.completion_time --x platform.oversubscription \
	    --title "All-to-all shuffle: completion time vs rack oversubscription" \
	    --out plots/shuffle-oversubscription.png >/dev/null; \
	fi
	@if [ -f results/broker-durability/summary.csv ]; then \
	  echo "plots/broker-durability.png plots/broker-durability-lost.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/broker-durability --metric broker.produce_latency_p99 \
	    --x acks --logy --title "Leader down 20 s: p99 produce latency" --out plots/broker-durability.png >/dev/null; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/broker-durability --metric broker.records_acked_lost \
	    --x acks --title "Leader down 20 s: acknowledged records lost" --out plots/broker-durability-lost.png >/dev/null; \
	fi
	@if [ -f results/broker-scaling/summary.csv ]; then \
	  echo "plots/broker-scaling-records.png plots/broker-scaling-mb.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/broker-scaling --metric broker.produce_throughput_records \
	    --x record_size --logy --title "Produce capacity: records/s by record size" \
	    --out plots/broker-scaling-records.png >/dev/null; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/broker-scaling --metric broker.produce_throughput_mb \
	    --x record_size --logy --title "Produce capacity: MB/s by record size (10 Gbps links)" \
	    --out plots/broker-scaling-mb.png >/dev/null; \
	fi
	@if [ -f results/cap-quorum-latency/summary.csv ]; then \
	  echo "plots/cap-quorum-latency.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_frontier.py results/cap-quorum-latency \
	    --x quorum.write_latency_p999 --y quorum.pbs_t_visibility_999 --label read_consistency --label write_consistency \
	    --group legs.write --logx --logy \
	    --name "mixture(0.9122 * pareto(shape: 10, scale: 0.235ms), 0.0878 * exp(rate: 1.66/ms))=ssd (all legs)" \
	    --name "mixture(0.38 * pareto(shape: 1.51, scale: 1.05ms), 0.62 * exp(rate: 0.183/ms))=disk (slow writes)" \
	    --title "N=3: p99.9 write latency against the time to 99.9% visibility" \
	    --out plots/cap-quorum-latency.png >/dev/null; \
	fi
	@if [ -f results/cap-partition/summary.csv ]; then \
	  echo "plots/cap-partition.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_timeseries.py results/cap-partition --metric quorum.availability.minority \
	    --metric quorum.availability.majority --metric quorum.stale_read_fraction --metric quorum.hint_backlog \
	    --band 20:40 --title "AP vs CP: a 5-node store cut 2 | 3 from 20 s to 40 s" \
	    --out plots/cap-partition.png >/dev/null; \
	fi
	@if [ -f results/hdfs-throughput/summary.csv ]; then \
	  echo "plots/hdfs-throughput.png plots/hdfs-recovery.png plots/hdfs-recovery-series.png plots/hdfs-small-files.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/hdfs-throughput --metric hdfs.write_throughput_mb \
	    --also hdfs.read_throughput_mb --x replication --title "TestDFSIO: write (solid) and read (dashed) MB/s" \
	    --out plots/hdfs-throughput.png >/dev/null; \
	fi
	@if [ -f results/hdfs-recovery/summary.csv ]; then \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/hdfs-recovery --metric hdfs.rereplication_seconds \
	    --x replication --title "Dead-node declaration to full re-replication" \
	    --out plots/hdfs-recovery.png >/dev/null; \
	  $(PLOTS_VENV)/bin/python plots/plot_timeseries.py results/hdfs-recovery --metric hdfs.under_replicated_blocks \
	    --metric hdfs.missing_blocks --where platform.racks=3 --where replication=2 --xlim 600:1000 \
	    --title "3 racks, replication 2: failure at 60 s" \
	    --out plots/hdfs-recovery-series.png >/dev/null; \
	fi
	@if [ -f results/hdfs-small-files/summary.csv ]; then \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/hdfs-small-files --metric hdfs.namenode_heap_bytes \
	    --also hdfs.rpcs --x file_size --logy --title "15 GiB in files of 32 KiB to 1 GiB: NameNode heap (B), RPCs (dashed)" \
	    --out plots/hdfs-small-files.png >/dev/null; \
	fi
	@if [ -f results/mapreduce-stragglers/summary.csv ]; then \
	  echo "plots/mapreduce-stragglers.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/mapreduce-stragglers --metric mapreduce.job_seconds \
	    --x slow_hosts --title "Word count of 128 GiB: stragglers, a lost host, backup tasks" \
	    --out plots/mapreduce-stragglers.png >/dev/null; \
	fi
	@if [ -f results/iterative-batch-vs-inmemory/summary.csv ]; then \
	  echo "plots/iterative-batch-vs-inmemory.png plots/spark-failure.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/iterative-batch-vs-inmemory --metric spark.job_seconds \
	    --x iterations --logy --title "Logistic regression over 64 GiB: MapReduce vs Spark" \
	    --out plots/iterative-batch-vs-inmemory.png >/dev/null; \
	fi
	@if [ -f results/spark-failure/summary.csv ]; then \
	  $(PLOTS_VENV)/bin/python plots/plot_timeseries.py results/spark-failure --metric spark.iteration_seconds \
	    --band 100:101 --xlim 0:240 --replication 0 --title "Iteration times (replication 0); an executor lost at 100 s" \
	    --out plots/spark-failure.png >/dev/null; \
	fi
	@if [ -f results/broker-partition/summary.csv ]; then \
	  echo "plots/broker-partition.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/broker-partition --metric broker.records_acked_lost \
	    --x acks --title "One broker and one producer cut off for 20 s: acknowledged records lost" \
	    --out plots/broker-partition.png >/dev/null; \
	fi
	@if [ -f results/stream-guarantees/summary.csv ]; then \
	  echo "plots/stream-guarantees-duplicates.png plots/stream-guarantees-freshness.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/stream-guarantees --metric stream.duplicates \
	    --x job.checkpoint_interval --title "A worker lost at 5 min 47 s: events counted twice, by checkpoint interval" \
	    --out plots/stream-guarantees-duplicates.png >/dev/null; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/stream-guarantees --metric serving.freshness_mean \
	    --also serving.freshness_p99 --x job.checkpoint_interval \
	    --title "Answer age, mean (solid) and p99 (dashed): exactly-once waits for the commit" \
	    --out plots/stream-guarantees-freshness.png >/dev/null; \
	fi
	@if [ -f results/lambda-vs-kappa/summary.csv ]; then \
	  echo "plots/lambda-vs-kappa.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_timeseries.py results/lambda-vs-kappa --metric serving.freshness_seconds \
	    --metric stream.consumer_lag --band 3300:4500 --replication 0 \
	    --title "Lambda vs Kappa (replication 0): the stream workers down 55-75 min, Kappa reprocessing from 90 min" \
	    --out plots/lambda-vs-kappa.png >/dev/null; \
	fi
	@if [ -f results/kappa-reprocessing/summary.csv ]; then \
	  echo "plots/kappa-reprocessing.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/kappa-reprocessing --metric kappa.catch_up_seconds \
	    --x reprocessing.parallelism --logy \
	    --title "Kappa: replaying the retained log (retention 36 h, 8 partitions), by parallelism" \
	    --out plots/kappa-reprocessing.png >/dev/null; \
	fi
	@if [ -f results/lambda-batch-period/summary.csv ]; then \
	  echo "plots/lambda-batch-period.png plots/lambda-batch-period-error.png"; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/lambda-batch-period --metric serving.freshness_mean \
	    --also serving.freshness_p99 --x batch.period --logy \
	    --title "Lambda: answer age, mean (solid) and p99 (dashed), with and without the speed layer" \
	    --out plots/lambda-batch-period.png >/dev/null; \
	  $(PLOTS_VENV)/bin/python plots/plot_sweep.py results/lambda-batch-period --metric serving.error_mean \
	    --x batch.period --title "Lambda: mean relative error (late events the speed layer dropped)" \
	    --out plots/lambda-batch-period-error.png >/dev/null; \
	fi

$(PLOTS_STAMP): plots/requirements.txt
	@if [ ! -x $(PLOTS_VENV)/bin/python ]; then \
	  echo "python3 -m venv $(PLOTS_VENV)"; python3 -m venv $(PLOTS_VENV) || exit $$?; \
	fi
	$(PLOTS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r plots/requirements.txt
	@touch $@
