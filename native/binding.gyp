# The Open MPI transport's Node-API addon. Built by scripts/build-mpi.mjs (npm run build:mpi),
# which finds MPI with pkg-config (or mpicc) and passes its flags in as mpi_cflags / mpi_libs.
{
  "variables": {
    "mpi_cflags%": "",
    "mpi_libs%": "",
    "mpi_library%": "",
  },
  "targets": [
    {
      "target_name": "tslab_mpi",
      "sources": [
        "src/addon.cc",
        "src/library.cc",
        "src/runtime.cc",
        "src/requests.cc",
        "src/progress.cc",
        "src/lifecycle.cc",
        "src/p2p.cc",
        "src/collectives.cc",
        "src/comms.cc",
        "src/small-allreduce.cc",
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        # The C API only: no MPI C++ bindings (deprecated, and noisy to compile).
        "OMPI_SKIP_MPICXX=1",
        "MPICH_SKIP_MPICXX=1",
        "TSLAB_MPI_LIBRARY=\"<(mpi_library)\"",
      ],
      "cflags": ["<@(mpi_cflags)"],
      "cflags_cc": ["-std=c++17", "-O2", "<@(mpi_cflags)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<@(mpi_libs)", "-ldl", "-lpthread"],
    }
  ]
}
