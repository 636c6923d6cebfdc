// Node loads addons with RTLD_LOCAL, so libmpi (a dependency of this addon) is loaded with its
// symbols private to us. Open MPI opens its components (mca_*.so) with dlopen at MPI_Init, and
// those expect libmpi's and libopen-pal's symbols to be global: without this they fail with
// "undefined symbol" and MPI_Init aborts. mpi4py does the same before MPI_Init.
#include <dlfcn.h>

#include <cstdlib>

#include "runtime.h"

#ifndef TSLAB_MPI_LIBRARY
#define TSLAB_MPI_LIBRARY ""
#endif

namespace tslab {

// Returns the path of the library that was made global, or "" when none could be.
std::string PromoteLibmpiToGlobal() {
  // For diagnosis (tslab-parallel doctor, the build's tests): run without the promotion.
  if (const char* skip = std::getenv("TSLAB_PARALLEL_MPI_NO_GLOBAL"); skip != nullptr && skip[0] == '1') return "";
  // The libmpi this addon is actually linked with: the object that holds MPI_Init_thread.
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &info) != 0 && info.dli_fname != nullptr) {
    // RTLD_NOLOAD: promote the copy already loaded (with its dependencies), never load another.
    if (dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD) != nullptr) return info.dli_fname;
  }
  // Fall back to the library the build found with pkg-config.
  const char* configured = TSLAB_MPI_LIBRARY;
  if (configured[0] != '\0' && dlopen(configured, RTLD_NOW | RTLD_GLOBAL) != nullptr) return configured;
  return "";
}

}  // namespace tslab
