#!/usr/bin/env bash
# Install the Debian packages neurodyn needs. Idempotent: does nothing when all are present,
# otherwise prints what it installs. Runs as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libxtensor-dev xtl-dev nlohmann-json3-dev
  doctest-dev libbenchmark-dev libmatio-dev libcli11-dev
  gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "neurodyn: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "neurodyn: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "neurodyn: installed ${missing[*]}" >&2
