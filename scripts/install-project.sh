#!/usr/bin/env bash
# Installs and builds the project from a clean checkout: npm ci, the TypeScript build, and the
# optional native MPI addon (skipped with a note when MPI is missing). Used by .ci/run and
# docker/Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
if npm run | grep -q "build:mpi"; then
  npm run build:mpi || echo "note: the Open MPI addon was not built; %%mpirun --backend mpi is unavailable (see: npx tslab-parallel doctor)"
fi
