# The processes transport's shared-memory addon: maps a file descriptor the launcher passed to
# a rank and hands JavaScript a SharedArrayBuffer on it. Built by scripts/build-shm.mjs
# (npm run build:shm); optional: without it the ranks talk over their sockets only.
{
  "targets": [
    {
      "target_name": "tslab_shm",
      "sources": ["src/shm.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wno-cast-function-type"],
    }
  ]
}
