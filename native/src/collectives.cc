// Nonblocking collectives on typed arrays (MPI_Ibarrier, MPI_Ibcast, MPI_Iallreduce,
// MPI_Igatherv): each returns a request handle that progress() completes like any other.
// Buffers (and Igatherv's counts and displacements) must stay untouched until it does.
#include "runtime.h"

namespace tslab {
namespace {

int32_t Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// Element types by the JS wire code (src/comm/buffers.ts); Uint8ClampedArray has no MPI twin.
MPI_Datatype DatatypeOf(int32_t code) {
  switch (code) {
    case 0: return MPI_UINT8_T;
    case 1: return MPI_INT8_T;
    case 3: return MPI_INT16_T;
    case 4: return MPI_UINT16_T;
    case 5: return MPI_INT32_T;
    case 6: return MPI_UINT32_T;
    case 7: return MPI_FLOAT;
    case 8: return MPI_DOUBLE;
    case 9: return MPI_INT64_T;
    case 10: return MPI_UINT64_T;
    default: return MPI_DATATYPE_NULL;
  }
}

// Op codes as src/comm/mpi/collectives.ts numbers them.
MPI_Op OpOf(int32_t code) {
  switch (code) {
    case 0: return MPI_SUM;
    case 1: return MPI_PROD;
    case 2: return MPI_MIN;
    case 3: return MPI_MAX;
    case 4: return MPI_LAND;
    case 5: return MPI_LOR;
    case 6: return MPI_BAND;
    case 7: return MPI_BOR;
    default: return MPI_OP_NULL;
  }
}

bool Buffer(const Napi::CallbackInfo& info, size_t i, Bytes* out) {
  *out = BytesOf(info.Env(), info[i]);
  if (out->ok) return true;
  Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a typed array").ThrowAsJavaScriptException();
  return false;
}

// (Call the MPI function first, then this: argument evaluation order is unspecified in C++.)
Napi::Value Started(Napi::Env env, int rc, const char* call, MPI_Request request) {
  if (!CheckMpi(env, rc, call)) return env.Undefined();
  return Napi::Number::New(env, runtime().requests.Add(request));
}

// ibarrier(comm) → handle
Napi::Value Ibarrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  if (comm == MPI_COMM_NULL) return env.Undefined();
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = MPI_Ibarrier(comm, &request);
  return Started(env, rc, "MPI_Ibarrier", request);
}

// ibcast(comm, view, bytes, root) → handle
Napi::Value Ibcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  Bytes buf;
  if (comm == MPI_COMM_NULL || !Buffer(info, 1, &buf)) return env.Undefined();
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = MPI_Ibcast(buf.data, Int(info, 2), MPI_BYTE, Int(info, 3), comm, &request);
  return Started(env, rc, "MPI_Ibcast", request);
}

// iallreduce(comm, send | null (in place), recv, count, dtype, op) → handle
Napi::Value Iallreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  Bytes send, recv;
  if (comm == MPI_COMM_NULL || !Buffer(info, 2, &recv)) return env.Undefined();
  bool inPlace = info[1].IsNull();
  if (!inPlace && !Buffer(info, 1, &send)) return env.Undefined();
  MPI_Datatype type = DatatypeOf(Int(info, 4));
  MPI_Op op = OpOf(Int(info, 5));
  if (type == MPI_DATATYPE_NULL || op == MPI_OP_NULL) {
    Napi::RangeError::New(env, "iallreduce: no MPI datatype or op for these codes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = MPI_Iallreduce(inPlace ? MPI_IN_PLACE : send.data, recv.data, Int(info, 3), type, op, comm, &request);
  return Started(env, rc, "MPI_Iallreduce", request);
}

// igatherv(comm, send, sendBytes, recv | null, counts | null, displs | null, root) → handle;
// counts and displacements in bytes, read on the root only.
Napi::Value Igatherv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  Bytes send, recv, counts, displs;
  if (comm == MPI_COMM_NULL || !Buffer(info, 1, &send)) return env.Undefined();
  bool root = !info[3].IsNull();
  if (root && (!Buffer(info, 3, &recv) || !Buffer(info, 4, &counts) || !Buffer(info, 5, &displs))) return env.Undefined();
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = MPI_Igatherv(send.data, Int(info, 2), MPI_BYTE, root ? recv.data : nullptr, root ? static_cast<int*>(counts.data) : nullptr,
                        root ? static_cast<int*>(displs.data) : nullptr, MPI_BYTE, Int(info, 6), comm, &request);
  return Started(env, rc, "MPI_Igatherv", request);
}

}  // namespace

void InitCollectives(Napi::Env env, Napi::Object exports) {
  exports.Set("ibarrier", Napi::Function::New(env, Ibarrier, "ibarrier"));
  exports.Set("ibcast", Napi::Function::New(env, Ibcast, "ibcast"));
  exports.Set("iallreduce", Napi::Function::New(env, Iallreduce, "iallreduce"));
  exports.Set("igatherv", Napi::Function::New(env, Igatherv, "igatherv"));
}

}  // namespace tslab
