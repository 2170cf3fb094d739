#!/usr/bin/env bash
# The main job: run the example pipeline and write data and figures under OUT.
set -euo pipefail
build=${1:-build/release}
out=${2:-out}
mkdir -p "$out"
ex="$build/examples"
ran=0
if [ -x "$ex/inagaki2019_attractors" ]; then
  echo "== Inagaki et al. 2019 attractor model -> $out/attractors" >&2
  "$ex/inagaki2019_attractors" --out "$out/attractors"
  ran=1
fi
if [ "$ran" -eq 0 ]; then
  echo "demo: no example programs were built in $build/examples" >&2
  exit 1
fi
echo "demo: results are under $out/" >&2
