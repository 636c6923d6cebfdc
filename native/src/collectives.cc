// Nonblocking collectives on typed arrays (MPI_Ibarrier, MPI_Ibcast, MPI_Ireduce, MPI_Iallreduce,
// MPI_Igatherv, MPI_Iallgatherv, MPI_Ialltoall, MPI_Ialltoallv, MPI_Ireduce_scatter(_block),
// MPI_Iscan, MPI_Iexscan): each returns a request handle that progress() completes like any
// other. Buffers (and counts and displacements) must stay untouched until it does. A null send
// buffer is MPI_IN_PLACE. Data movement is in bytes (MPI_BYTE); reductions use the element type.
#include "runtime.h"

namespace tslab {

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

namespace {

int32_t Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

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

// The send buffer at `i`: null is MPI_IN_PLACE.
bool SendBuffer(const Napi::CallbackInfo& info, size_t i, void** out) {
  if (info[i].IsNull()) {
    *out = MPI_IN_PLACE;
    return true;
  }
  Bytes send;
  if (!Buffer(info, i, &send)) return false;
  *out = send.data;
  return true;
}

// Element type and op codes at `i` and `i + 1`.
bool Reduction(const Napi::CallbackInfo& info, size_t i, const char* call, MPI_Datatype* type, MPI_Op* op) {
  *type = DatatypeOf(Int(info, i));
  *op = OpOf(Int(info, i + 1));
  if (*type != MPI_DATATYPE_NULL && *op != MPI_OP_NULL) return true;
  Napi::RangeError::New(info.Env(), std::string(call) + ": no MPI datatype or op for these codes").ThrowAsJavaScriptException();
  return false;
}

int* Ints(const Bytes& b) { return static_cast<int*>(b.data); }

// allreduceSmall(comm, send | null, recv, count, dtype, op, spinNs) → 0 when done within spinNs,
// else a handle: small-allreduce.cc's recursive doubling, for at most kSmallAllreduceBytes on a
// power-of-two communicator.
Napi::Value AllreduceSmall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  const bool inPlace = info[1].IsNull();
  Bytes send, recv;
  MPI_Datatype type;
  MPI_Op op;
  if (comm == MPI_COMM_NULL || (!inPlace && !Buffer(info, 1, &send)) || !Buffer(info, 2, &recv) || !Reduction(info, 4, "allreduceSmall", &type, &op)) return env.Undefined();
  const int count = Int(info, 3);
  int typeBytes = 0, size = 0;
  MPI_Type_size(type, &typeBytes);
  MPI_Comm_size(comm, &size);
  const size_t bytes = static_cast<size_t>(count) * static_cast<size_t>(typeBytes);
  if (bytes > recv.length || (!inPlace && bytes > send.length) || bytes > kSmallAllreduceBytes || (size & (size - 1)) != 0) {
    Napi::RangeError::New(env, "allreduceSmall: at most 4096 bytes that fit the buffers, on a communicator whose size is a power of two").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::lock_guard<std::mutex> lock(runtime().mpi);
  int rc = MPI_SUCCESS;
  const int32_t handle = StartSmallAllreduce(comm, inPlace ? MPI_IN_PLACE : send.data, recv.data, count, type, op, info[6].As<Napi::Number>().Int64Value(), &rc);
  if (!CheckMpi(env, rc, "allreduceSmall (MPI_Isend/MPI_Irecv)")) return env.Undefined();
  return Napi::Number::New(env, handle);
}

// ireduce(comm, send | null, recv | null (off the root), count, dtype, op, root) → handle
Napi::Value Ireduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  void* send;
  Bytes recv;
  MPI_Datatype type;
  MPI_Op op;
  if (comm == MPI_COMM_NULL || !SendBuffer(info, 1, &send) || !Reduction(info, 4, "ireduce", &type, &op)) return env.Undefined();
  bool hasRecv = !info[2].IsNull();
  if (hasRecv && !Buffer(info, 2, &recv)) return env.Undefined();
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = MPI_Ireduce(send, hasRecv ? recv.data : nullptr, Int(info, 3), type, op, Int(info, 6), comm, &request);
  return Started(env, rc, "MPI_Ireduce", request);
}

// ialltoall(comm, send | null, recv, blockBytes) → handle
Napi::Value Ialltoall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  void* send;
  Bytes recv;
  if (comm == MPI_COMM_NULL || !SendBuffer(info, 1, &send) || !Buffer(info, 2, &recv)) return env.Undefined();
  int bytes = Int(info, 3);
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = MPI_Ialltoall(send, bytes, MPI_BYTE, recv.data, bytes, MPI_BYTE, comm, &request);
  return Started(env, rc, "MPI_Ialltoall", request);
}

// ialltoallv(comm, send | null, sendCounts, sendDispls, recv, recvCounts, recvDispls) → handle;
// counts and displacements in bytes (Int32Array; the send ones are ignored in place).
Napi::Value Ialltoallv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  void* send;
  Bytes sc, sd, recv, rcounts, rdispls;
  if (comm == MPI_COMM_NULL || !SendBuffer(info, 1, &send) || !Buffer(info, 4, &recv) || !Buffer(info, 5, &rcounts) || !Buffer(info, 6, &rdispls)) {
    return env.Undefined();
  }
  bool inPlace = send == MPI_IN_PLACE;
  if (!inPlace && (!Buffer(info, 2, &sc) || !Buffer(info, 3, &sd))) return env.Undefined();
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = MPI_Ialltoallv(send, inPlace ? nullptr : Ints(sc), inPlace ? nullptr : Ints(sd), MPI_BYTE, recv.data, Ints(rcounts), Ints(rdispls), MPI_BYTE,
                          comm, &request);
  return Started(env, rc, "MPI_Ialltoallv", request);
}

// iallgatherv(comm, send | null, sendBytes, recv, counts, displs) → handle; bytes.
Napi::Value Iallgatherv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  void* send;
  Bytes recv, counts, displs;
  if (comm == MPI_COMM_NULL || !SendBuffer(info, 1, &send) || !Buffer(info, 3, &recv) || !Buffer(info, 4, &counts) || !Buffer(info, 5, &displs)) {
    return env.Undefined();
  }
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = MPI_Iallgatherv(send, Int(info, 2), MPI_BYTE, recv.data, Ints(counts), Ints(displs), MPI_BYTE, comm, &request);
  return Started(env, rc, "MPI_Iallgatherv", request);
}

// ireduceScatter(comm, send | null, recv, counts (Int32Array, elements) | count, dtype, op, block) → handle
Napi::Value IreduceScatter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  void* send;
  Bytes recv, counts;
  MPI_Datatype type;
  MPI_Op op;
  if (comm == MPI_COMM_NULL || !SendBuffer(info, 1, &send) || !Buffer(info, 2, &recv) || !Reduction(info, 4, "ireduceScatter", &type, &op)) {
    return env.Undefined();
  }
  bool block = info[6].As<Napi::Boolean>().Value();
  if (!block && !Buffer(info, 3, &counts)) return env.Undefined();
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = block ? MPI_Ireduce_scatter_block(send, recv.data, Int(info, 3), type, op, comm, &request)
                 : MPI_Ireduce_scatter(send, recv.data, Ints(counts), type, op, comm, &request);
  return Started(env, rc, block ? "MPI_Ireduce_scatter_block" : "MPI_Ireduce_scatter", request);
}

// iscan(comm, send | null, recv, count, dtype, op, exclusive) → handle
Napi::Value Iscan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  void* send;
  Bytes recv;
  MPI_Datatype type;
  MPI_Op op;
  if (comm == MPI_COMM_NULL || !SendBuffer(info, 1, &send) || !Buffer(info, 2, &recv) || !Reduction(info, 4, "iscan", &type, &op)) return env.Undefined();
  bool exclusive = info[6].As<Napi::Boolean>().Value();
  std::lock_guard<std::mutex> lock(runtime().mpi);
  MPI_Request request;
  int rc = exclusive ? MPI_Iexscan(send, recv.data, Int(info, 3), type, op, comm, &request) : MPI_Iscan(send, recv.data, Int(info, 3), type, op, comm, &request);
  return Started(env, rc, exclusive ? "MPI_Iexscan" : "MPI_Iscan", request);
}

}  // namespace

void InitCollectives(Napi::Env env, Napi::Object exports) {
  exports.Set("ibarrier", Napi::Function::New(env, Ibarrier, "ibarrier"));
  exports.Set("ibcast", Napi::Function::New(env, Ibcast, "ibcast"));
  exports.Set("iallreduce", Napi::Function::New(env, Iallreduce, "iallreduce"));
  exports.Set("allreduceSmall", Napi::Function::New(env, AllreduceSmall, "allreduceSmall"));
  exports.Set("igatherv", Napi::Function::New(env, Igatherv, "igatherv"));
  exports.Set("ireduce", Napi::Function::New(env, Ireduce, "ireduce"));
  exports.Set("ialltoall", Napi::Function::New(env, Ialltoall, "ialltoall"));
  exports.Set("ialltoallv", Napi::Function::New(env, Ialltoallv, "ialltoallv"));
  exports.Set("iallgatherv", Napi::Function::New(env, Iallgatherv, "iallgatherv"));
  exports.Set("ireduceScatter", Napi::Function::New(env, IreduceScatter, "ireduceScatter"));
  exports.Set("iscan", Napi::Function::New(env, Iscan, "iscan"));
}

}  // namespace tslab
