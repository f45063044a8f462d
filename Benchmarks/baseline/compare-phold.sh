#!/usr/bin/env bash
# Compare BDSim's PHOLD against a plain C++17 loop and SimPy, using the same parameters.
#
# Usage: Benchmarks/baseline/compare-phold.sh   (works from any directory)
# Environment:
#   SKIP_SWIFT_BUILD=1   do not run `swift build -c release --product bdsim` (use the existing binary, if any)
#   SIMPY_END_TIME=100   end time for the SimPy run only. SimPy is slow; its events/s is still comparable.
#   BDSIM=<path>         BDSim binary to run (default <repo>/.build/release/bdsim)
#   LPS EVENTS_PER_LP REMOTE LOOKAHEAD MEAN END_TIME SEED   PHOLD parameters (defaults 1024 16 0.5 0.1 1 1000 1)
# Each program prints as its last stdout line: events=<N> seconds=<S> events_per_s=<R>.
# That time covers only its simulation loop. The table is built from those lines.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

LPS="${LPS:-1024}"
EVENTS_PER_LP="${EVENTS_PER_LP:-16}"
REMOTE="${REMOTE:-0.5}"
LOOKAHEAD="${LOOKAHEAD:-0.1}"
MEAN="${MEAN:-1}"
END_TIME="${END_TIME:-1000}"
SEED="${SEED:-1}"
SIMPY_END_TIME="${SIMPY_END_TIME:-100}"

common=(--lps "$LPS" --events-per-lp "$EVENTS_PER_LP" --remote "$REMOTE" --lookahead "$LOOKAHEAD" --mean "$MEAN" --seed "$SEED")

# --- build / set up -----------------------------------------------------------
echo "== compiling C++ baseline"
mkdir -p "$HERE/.build-cpp"
g++ -O2 -std=c++17 -o "$HERE/.build-cpp/phold" "$HERE/phold.cpp"

echo "== SimPy venv"
if [[ ! -x "$HERE/.venv/bin/python" ]]; then
  python3 -m venv "$HERE/.venv"
fi
"$HERE/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt"

BDSIM="${BDSIM:-$ROOT/.build/release/bdsim}"
if [[ "${SKIP_SWIFT_BUILD:-0}" == "1" ]]; then
  echo "== swift build skipped (SKIP_SWIFT_BUILD=1)"
elif [[ ! -f "$ROOT/Package.swift" ]]; then
  echo "== NOTE: no $ROOT/Package.swift yet, so swift build is skipped"
else
  echo "== swift build -c release --product bdsim"
  (cd "$ROOT" && swift build -c release --product bdsim)
fi

# --- run ----------------------------------------------------------------------
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# run NAME CMD...: runs CMD, keeps its stdout in $TMP/NAME.out, and checks its last line.
run() {
  local name="$1"; shift
  echo "== running $name: $*"
  if ! "$@" >"$TMP/$name.out"; then
    echo "error: $name failed; its output:" >&2
    cat "$TMP/$name.out" >&2
    exit 1
  fi
  local last
  last="$(tail -n 1 "$TMP/$name.out")"
  if [[ ! "$last" =~ ^events=([0-9]+)\ seconds=([0-9.eE+-]+)\ events_per_s=([0-9.eE+-]+)$ ]]; then
    echo "error: $name's last line is not 'events=<N> seconds=<S> events_per_s=<R>': '$last'" >&2
    exit 1
  fi
  echo "$name ${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}" >"$TMP/$name.row"
}

run cpp "$HERE/.build-cpp/phold" "${common[@]}" --end-time "$END_TIME"
run simpy "$HERE/.venv/bin/python" "$HERE/phold_simpy.py" "${common[@]}" --end-time "$SIMPY_END_TIME"
have_bdsim=0
if [[ -x "$BDSIM" ]]; then
  run bdsim "$BDSIM" phold "${common[@]}" --end-time "$END_TIME"
  have_bdsim=1
else
  echo "== NOTE: BDSim binary not found at $BDSIM, so there is no BDSim row"
  echo "         (build it with: cd $ROOT && swift build -c release --product bdsim)"
fi

# --- report -------------------------------------------------------------------
echo
echo "PHOLD lps=$LPS events-per-lp=$EVENTS_PER_LP remote=$REMOTE lookahead=$LOOKAHEAD mean=$MEAN seed=$SEED"
awk -v n="$LPS" -v e="$EVENTS_PER_LP" -v la="$LOOKAHEAD" -v m="$MEAN" -v t="$END_TIME" -v ts="$SIMPY_END_TIME" \
  'BEGIN { printf "expected events ~ lps*events_per_lp*end/(lookahead+mean) = %.0f at end %s, %.0f at end %s\n", n*e*t/(la+m), t, n*e*ts/(la+m), ts }'
echo
{
  echo "cpp $END_TIME"; echo "simpy $SIMPY_END_TIME"; [[ $have_bdsim == 1 ]] && echo "bdsim $END_TIME"
  cat "$TMP"/*.row
} | awk '
  NF == 2 { endt[$1] = $2; next }
  { ev[$1] = $2; sec[$1] = $3; rate[$1] = $4 }
  END {
    label["bdsim"] = "BDSim (Swift)"; label["cpp"] = "C++ (priority_queue)"; label["simpy"] = "SimPy"
    printf "%-22s %9s %12s %10s %14s\n", "implementation", "end time", "events", "seconds", "events/s"
    n = split("bdsim cpp simpy", order, " ")
    for (i = 1; i <= n; i++) { k = order[i]; if (k in ev)
      printf "%-22s %9s %12d %10.3f %14.0f\n", label[k], endt[k], ev[k], sec[k], rate[k] }
    print ""
    if ("simpy" in ev && endt["simpy"] != endt["cpp"])
      printf "note: SimPy measured on end time %s, the others on %s (events/s is per event, so it is still comparable)\n", endt["simpy"], endt["cpp"]
    if ("bdsim" in ev) {
      printf "BDSim events/s / C++ events/s   = %.3f\n", rate["bdsim"] / rate["cpp"]
      printf "BDSim events/s / SimPy events/s = %.2f\n", rate["bdsim"] / rate["simpy"]
    } else {
      printf "BDSim: binary not built, so there are no ratios (C++ events/s / SimPy events/s = %.1f)\n", rate["cpp"] / rate["simpy"]
    }
  }'
