// Communicators: one MPI communicator per context of the JS communicator layer, plus the
// world's data communicator for large payloads. JS refers to them by index.
#include "runtime.h"

namespace tslab {
namespace {

int32_t Keep(MPI_Comm comm) {
  Runtime& rt = runtime();
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  for (size_t i = 0; i < rt.comms.size(); i++) {
    if (rt.comms[i] == MPI_COMM_NULL) {
      rt.comms[i] = comm;
      return static_cast<int32_t>(i);
    }
  }
  rt.comms.push_back(comm);
  return static_cast<int32_t>(rt.comms.size() - 1);
}

// commDup(comm) → index. Collective over `comm` (blocking: every member calls it together).
Napi::Value CommDup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm parent = CommAt(env, info[0]);
  if (parent == MPI_COMM_NULL) return env.Undefined();
  Runtime& rt = runtime();
  std::lock_guard<std::mutex> lock(rt.mpi);
  MPI_Comm comm;
  if (!CheckMpi(env, MPI_Comm_dup(parent, &comm), "MPI_Comm_dup")) return env.Undefined();
  return Napi::Number::New(env, Keep(comm));
}

// commSplit(comm, color, key) → index, or -1 for color -1 (MPI_UNDEFINED: no new communicator).
Napi::Value CommSplit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm parent = CommAt(env, info[0]);
  if (parent == MPI_COMM_NULL) return env.Undefined();
  int32_t color = info[1].As<Napi::Number>().Int32Value();
  int32_t key = info[2].As<Napi::Number>().Int32Value();
  Runtime& rt = runtime();
  std::lock_guard<std::mutex> lock(rt.mpi);
  MPI_Comm comm;
  if (!CheckMpi(env, MPI_Comm_split(parent, color < 0 ? MPI_UNDEFINED : color, key, &comm), "MPI_Comm_split")) {
    return env.Undefined();
  }
  return Napi::Number::New(env, comm == MPI_COMM_NULL ? -1 : Keep(comm));
}

Napi::Value CommFree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t i = info[0].As<Napi::Number>().Int32Value();
  Runtime& rt = runtime();
  std::lock_guard<std::mutex> lock(rt.mpi);
  if (i > 0 && static_cast<size_t>(i) < rt.comms.size() && rt.comms[i] != MPI_COMM_NULL && !rt.finalized) {
    MPI_Comm_free(&rt.comms[i]);
    rt.comms[i] = MPI_COMM_NULL;
  }
  return env.Undefined();
}

}  // namespace

void InitComms(Napi::Env env, Napi::Object exports) {
  exports.Set("commDup", Napi::Function::New(env, CommDup, "commDup"));
  exports.Set("commSplit", Napi::Function::New(env, CommSplit, "commSplit"));
  exports.Set("commFree", Napi::Function::New(env, CommFree, "commFree"));
}

}  // namespace tslab
