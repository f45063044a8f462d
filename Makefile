# BDSim: the set-up, demo, test and benchmark commands. `make help` lists them.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

SWIFT ?= swift
BDSIM_RELEASE := .build/release/bdsim
DEMO_OUT := results/queueing-validation

.PHONY: help deps build release demo test test-fast bench bench-baseline format lint clean

help:
	@echo "make deps      install GSL (libgsl-dev) if pkg-config cannot find it"
	@echo "make demo      build (release) and run the queueing-theory validation; prints the table, writes CSV"
	@echo "make test      run the whole test suite (debug build)"
	@echo "make test-fast the suite without the long statistical checks"
	@echo "make bench     PHOLD against a C++ loop and SimPy, then the kernel micro-benchmarks"
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

demo: release
	@mkdir -p $(DEMO_OUT)
	$(BDSIM_RELEASE) validate-queueing --replications 10 --duration 20000s --warmup 1000s --seed 1 \
	  --csv $(DEMO_OUT)/validation.csv

test: deps
	$(SWIFT) test

test-fast: deps
	$(SWIFT) test --skip closedFormsLieInsideSimulatedConfidenceIntervals

bench: release
	SKIP_SWIFT_BUILD=1 bash Benchmarks/baseline/compare-phold.sh
	bash Benchmarks/run.sh

bench-baseline: release
	SKIP_SWIFT_BUILD=1 bash Benchmarks/baseline/compare-phold.sh

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

lint:
	$(SWIFT) format lint -r Sources Tests Package.swift

clean:
	rm -rf .build
