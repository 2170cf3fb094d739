#!/usr/bin/env bash
# Run every benchmark program of a build directory.
set -euo pipefail
build=${1:-build/release}
for b in "$build"/benchmarks/bench_*; do
  [ -x "$b" ] || continue
  echo "== $b"
  "$b" --benchmark_counters_tabular=true
done
