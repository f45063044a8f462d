#!/usr/bin/env bash
# Builds and runs BDSim's kernel benchmarks (ordo-one/benchmark) and prints the results table.
#
#   Benchmarks/run.sh                           # everything (about a minute once built)
#   Benchmarks/run.sh --filter '.*PHOLD.*'      # any option of `swift package benchmark run`;
#                                               # --filter must match the whole benchmark name
#   BDSIM_QUEUE_PROBE=1 Benchmarks/.build/release/KernelBenchmarks   # quick queue diagnostics
#
# Non-interactive and offline: packages come from the local mirrors, as for the root package.
# The first run builds the root package, ordo-one/benchmark and swift-collections in release
# mode in Benchmarks/.build (a few minutes); Package.resolved there is not committed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

swift package --allow-writing-to-package-directory benchmark run --no-progress --grouping metric "$@" </dev/null
