#!/usr/bin/env bash
# System packages the kernel, its tests and the lab need, from Debian (no PyPI).
# Used by .ci/run and by docker/Dockerfile, so CI exercises the image's steps.
#
#   scripts/setup-system.sh          what CI needs: building and running the kernel, and the tests
#   scripts/setup-system.sh --lab    what the JupyterLab image needs (docker/Dockerfile): building and
#                                    running the kernel, OpenSSH (Open MPI reaches other containers
#                                    over ssh) and python3-venv (the image's JupyterLab lives in a
#                                    venv); none of the test-only tools (Chromium, docker-compose)
#   add --list                       print the packages, one a line, and install nothing
# Installs only what is missing, so running it again changes nothing.
set -euo pipefail

# Building and running the kernel: the native MPI transport, node-gyp, the lectures' shell tools
build_packages=(
  # message passing: Open MPI and its headers (the native MPI transport builds against them)
  openmpi-bin libopenmpi-dev pkg-config
  # native addons (node-gyp) and the shell tools the lectures use
  build-essential python3 parallel procps
)
test_packages=(
  # Jupyter clients and servers the tests drive the kernel with
  python3-jupyter-client jupyter-client python3-jupyter-core jupyter-core
  python3-nbclient python3-nbformat jupyter-nbformat jupyter-nbconvert
  python3-jupyter-server jupyter-server python3-jupyter-kernel-test python3-ipykernel
  # the classic Notebook UI, driven in Chromium by the notebook UI test
  jupyter-notebook
  # headless browser for slide tests; compose file validation
  chromium docker-compose
  # the Python peers the benchmarks measure in the same run (Numba, mpi4py, NumPy)
  python3-numba python3-mpi4py python3-numpy
  # network namespaces: the two-host Open MPI test bed
  iproute2
)
lab_packages=(
  # the image's JupyterLab is pip-installed in a venv; mpirun starts ranks on other containers over ssh
  python3-venv openssh-client openssh-server
)

profile=ci
list=false
for arg in "$@"; do
  case "$arg" in
    --lab) profile=lab ;;
    --list) list=true ;;
    *) echo "setup-system.sh: unknown option $arg (valid: --lab, --list)" >&2; exit 2 ;;
  esac
done
if [ "$profile" = lab ]; then
  packages=("${build_packages[@]}" "${lab_packages[@]}")
else
  packages=("${build_packages[@]}" "${test_packages[@]}")
fi
if $list; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

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
