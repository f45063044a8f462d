# Sourced by the benchmark scripts: $root (the repository), $bdsim (the release binary, which
# must exist: `make release`; BDSIM=path runs another binary instead, e.g. an older build to
# compare with) and $scratch (a temporary directory removed on exit).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bdsim="${BDSIM:-$root/.build/release/bdsim}"
[ -x "$bdsim" ] || { echo "no $bdsim: run 'make release' first (or give BDSIM=path)" >&2; exit 2; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
