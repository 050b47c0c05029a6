#!/usr/bin/env bash
# Preflight speed: `go test -bench` of the checks `run` makes before each
# start (reference set and ~600 packages, default and --deep), medians of
# COUNT runs; then `launcher check` end to end with hyperfine when present.
# Usage: bench/preflight.sh [COUNT]   (make bench-preflight)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10}
make -s fixtures build >/dev/null
echo "| benchmark | median | min | max |"
echo "|---|---|---|---|"
go test -run '^$' -bench 'BenchmarkPreflight' -benchtime 100x -count "$count" ./launcher/preflight |
  awk '/^BenchmarkPreflight/ { n=$1; sub(/-[0-9]+$/, "", n); sub(/^BenchmarkPreflight\//, "", n); print n, $3 }' |
  sort -k1,1 -k2,2n |
  awk '{ v[$1] = v[$1] " " $2; c[$1]++ }
       END { for (n in v) { k = split(substr(v[n], 2), a, " ");
             printf "| %s | %.1f ms | %.1f ms | %.1f ms |\n", n, a[int((k+1)/2)]/1e6, a[1]/1e6, a[k]/1e6 } }' | sort
if command -v hyperfine >/dev/null; then
  echo
  for app in app20 big; do
    LAUNCHER_APP_DIR=$PWD/.fixtures/$app hyperfine -N --warmup 5 -r 50 --style basic \
      "bin/launcher check" "bin/launcher check --deep" 2>/dev/null | grep -E "Benchmark|Time"
  done
fi
