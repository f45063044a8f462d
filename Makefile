# BDSim: the set-up, demo, test and benchmark commands. `make help` lists them.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
# The debug build (and so `make test`) optimises the simulation targets, keeping its checks
# (Package.swift says how); unset it (BDSIM_OPTIMISED_DEBUG=0 make test) for a -Onone build.
export BDSIM_OPTIMISED_DEBUG ?= 1

SWIFT ?= swift
BDSIM_RELEASE := .build/release/bdsim
.PHONY: help deps build release demo example validation validate-published test test-heavy test-all bench bench-baseline format lint clean

help:
	@echo "make deps      install GSL (libgsl-dev) if pkg-config cannot find it"
	@echo "make demo      build (release), run experiments/quickstart.yaml, print its table, write CSV and plots/quickstart.png"
	@echo "make validation  the kernel's queueing-theory validation table (results/queueing-validation/)"
	@echo "make validate-published  the broker, quorum store, Spark and MapReduce against published measurements (experiments/validation/, table in docs/VALIDATION.md)"
	@echo "make plots     draw the plots the experiments declare (plots:) whose results exist, quickstart run if missing (Python venv in plots/.venv)"
	@echo "make test      the test suite (debug build) without the long checks of Tests/heavy-tests.txt"
	@echo "make test-heavy  only those long checks (statistical, fuzzing, long broker and architecture runs)"
	@echo "make test-all  every test (what make test and make test-heavy run, in one go)"
	@echo "make example   build and test Examples/CustomModel (a model in a package of its own, docs/EXTENDING.md) and verify its experiment's results"
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
# makes a second `make demo` instant), then the plots.
demo: release
	$(BDSIM_RELEASE) run experiments/quickstart.yaml --resume
	@$(MAKE) --no-print-directory plots

# The external-package example (docs/EXTENDING.md): its own package, depending on this one by
# path, with a model BDSim does not ship. Its bdsim-custom must list the model beside the shipped
# ones and reproduce the example's committed results byte for byte.
EXAMPLE := Examples/CustomModel
example: deps
	cd $(EXAMPLE) && $(SWIFT) build && $(SWIFT) test
	cd $(EXAMPLE) && .build/debug/bdsim-custom models | grep -E '^(token_bucket|broker) '
	cd $(EXAMPLE) && .build/debug/bdsim-custom verify results/token-bucket

validation: release
	@mkdir -p results/queueing-validation
	$(BDSIM_RELEASE) validate-queueing --replications 10 --duration 20000s --warmup 1000s --seed 1 \
	  --csv results/queueing-validation/validation.csv
	$(BDSIM_RELEASE) run experiments/queueing-validation.yaml --resume

# The systems against published measurements: each experiments/validation/*.yaml runs as `run
# --resume` runs it (committed results are reused), and the table in docs/VALIDATION.md is rewritten.
validate-published: release
	$(BDSIM_RELEASE) validate-published --markdown docs/VALIDATION.md

# The long checks (Tests/heavy-tests.txt: over 20 s each in a -Onone debug build) as one regular
# expression over test IDs. CI runs `make test` and then `make test-heavy`.
HEAVY_TESTS := $(shell grep -v '^\#' Tests/heavy-tests.txt | paste -sd'|' -)

test: deps
	$(SWIFT) test --skip '$(HEAVY_TESTS)'

test-heavy: deps
	$(SWIFT) test --filter '$(HEAVY_TESTS)'

test-all: deps
	$(SWIFT) test

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
# quickstart sweep is run only if its results are missing; then every plot an experiment declares
# (its plots: section) is drawn, for each experiment whose results exist. PLOTS_BDSIM is the
# binary that reads the configs: the release build, brought up to date first (a stale one may not
# know `plot` or a key of plots:); another binary given on the command line is used as it is.
PLOTS_VENV := plots/.venv
PLOTS_STAMP := $(PLOTS_VENV)/.requirements.stamp
PLOTS_BDSIM ?= $(BDSIM_RELEASE)
PLOTS_CONFIGS := $(sort $(wildcard experiments/*.yaml)) $(sort $(wildcard experiments/validation/*.yaml))

.PHONY: plots
plots: $(PLOTS_STAMP)
	@if [ "$(PLOTS_BDSIM)" = "$(BDSIM_RELEASE)" ]; then $(MAKE) --no-print-directory release || exit $$?; fi
	@if [ ! -f results/quickstart/summary.csv ]; then \
	  echo "$(PLOTS_BDSIM) run experiments/quickstart.yaml"; \
	  $(PLOTS_BDSIM) run experiments/quickstart.yaml || exit $$?; \
	fi
	@for config in $(PLOTS_CONFIGS); do \
	  grep -q '^plots:' $$config || continue; \
	  $(PLOTS_BDSIM) plot --config $$config --if-exists --python $(PLOTS_VENV)/bin/python || exit $$?; \
	done

$(PLOTS_STAMP): plots/requirements.txt
	@if [ ! -x $(PLOTS_VENV)/bin/python ]; then \
	  echo "python3 -m venv $(PLOTS_VENV)"; python3 -m venv $(PLOTS_VENV) || exit $$?; \
	fi
	$(PLOTS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r plots/requirements.txt
	@touch $@
