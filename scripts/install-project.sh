#!/usr/bin/env bash
# Installs and builds the project from a clean checkout: npm ci, the TypeScript build, and the
# optional native addons: the processes transport's shared memory and Open MPI (each skipped
# with a note when it cannot be built). Used by .ci/run and
# docker/Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
npm run build:shm || echo "note: the shared-memory addon was not built; %%mpirun --backend processes uses sockets only, slower for small messages (see: npx tslab-parallel doctor)"
if npm run | grep -q "build:mpi"; then
  npm run build:mpi || echo "note: the Open MPI addon was not built; %%mpirun --backend mpi is unavailable (see: npx tslab-parallel doctor)"
fi
