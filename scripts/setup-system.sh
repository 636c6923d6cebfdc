#!/usr/bin/env bash
# System packages the kernel, its tests and the lab need, from Debian (no PyPI).
# Used by .ci/run and by docker/Dockerfile, so CI exercises the image's steps.
set -euo pipefail

packages=(
  # Jupyter clients and servers the tests drive the kernel with
  python3-jupyter-client jupyter-client python3-jupyter-core jupyter-core
  python3-nbclient python3-nbformat jupyter-nbformat jupyter-nbconvert
  python3-jupyter-server jupyter-server python3-jupyter-kernel-test python3-ipykernel
  # message passing: Open MPI and its headers (the native MPI transport builds against them)
  openmpi-bin libopenmpi-dev pkg-config
  # native addons (node-gyp) and the shell tools the lectures use
  build-essential python3 parallel procps
  # headless browser for slide tests; compose file validation
  chromium docker-compose
)

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
