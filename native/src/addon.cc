// tslab_mpi: the Node-API addon of the Open MPI transport (src/comm/mpi/). Loading it does not
// start MPI; init() does, once the rank knows it runs under mpirun or srun.
#include "runtime.h"

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  tslab::InitLifecycle(env, exports);
  tslab::InitProgress(env, exports);
  tslab::InitP2p(env, exports);
  tslab::InitCollectives(env, exports);
  tslab::InitComms(env, exports);
  exports.Set("mpiVersion", Napi::String::New(env, std::to_string(MPI_VERSION) + "." + std::to_string(MPI_SUBVERSION)));
  return exports;
}

NODE_API_MODULE(tslab_mpi, InitAddon)
