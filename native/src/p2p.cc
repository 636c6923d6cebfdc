// Point-to-point on byte buffers: the transport frames its messages itself (a 16-byte header
// in front of small payloads; large payloads go zero-copy from the caller's typed array).
#include <cstring>

#include "runtime.h"

namespace tslab {
namespace {

int32_t Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// The first `bytes` bytes of typed array info[i]; throws when it is not one or is shorter.
bool BufferArg(const Napi::CallbackInfo& info, size_t i, size_t bytes, void** data) {
  Bytes b = BytesOf(info.Env(), info[i]);
  if (!b.ok || bytes > b.length) {
    Napi::TypeError::New(info.Env(), "expected a typed array of at least " + std::to_string(bytes) + " bytes")
        .ThrowAsJavaScriptException();
    return false;
  }
  *data = b.data;
  return true;
}

// isend(comm, dest, tag, view, bytes) → 0 when the send completed at once (small messages
// usually do: MPI copied them out), else the handle of the request in flight.
Napi::Value Isend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  void* data = nullptr;
  int32_t bytes = Int(info, 4);
  if (comm == MPI_COMM_NULL || !BufferArg(info, 3, bytes, &data)) return env.Undefined();
  Runtime& rt = runtime();
  std::lock_guard<std::mutex> lock(rt.mpi);
  MPI_Request request;
  if (!CheckMpi(env, MPI_Isend(data, bytes, MPI_BYTE, Int(info, 1), Int(info, 2), comm, &request), "MPI_Isend")) {
    return env.Undefined();
  }
  int done = 0;
  if (!CheckMpi(env, MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test")) return env.Undefined();
  return Napi::Number::New(env, done ? 0 : rt.requests.Add(request));
}

// Sends a framed message from a staging buffer: the 16-byte header, then `payload` copied
// behind it (so the caller's array is free at once). → 0 when MPI completed the send at once
// (small messages usually are), else the request's handle (the staging goes back then).
Napi::Value SendFramed(Napi::Env env, MPI_Comm comm, int dest, int tag, const int32_t header[4], const Bytes& payload) {
  Runtime& rt = runtime();
  std::lock_guard<std::mutex> lock(rt.mpi);
  char* staging = TakeStaging();
  std::memcpy(staging, header, 16);
  if (payload.length > 0) std::memcpy(staging + 16, payload.data, payload.length);
  MPI_Request request;
  int rc = MPI_Isend(staging, static_cast<int>(16 + payload.length), MPI_BYTE, dest, tag, comm, &request);
  if (rc != MPI_SUCCESS) {
    GiveStaging(staging);
    CheckMpi(env, rc, "MPI_Isend");
    return env.Undefined();
  }
  int done = 0;
  MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  if (done) {
    GiveStaging(staging);
    return Napi::Number::New(env, 0);
  }
  return Napi::Number::New(env, rt.requests.Add(request, staging));
}

// isendInline(comm, dest, tag, word0, payload) → 0 or handle: a small message, header
// [word0, 0, payload bytes, 0]. (At most six arguments: node-addon-api allocates for more.)
Napi::Value IsendInline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  if (comm == MPI_COMM_NULL) return env.Undefined();
  Bytes payload = BytesOf(env, info[4]);
  if (!payload.ok || payload.length + 16 > kStagingBytes) {
    Napi::TypeError::New(env, "isendInline: the payload must be a typed array of at most " + std::to_string(kStagingBytes - 16) + " bytes")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int32_t header[4] = {Int(info, 3), 0, static_cast<int32_t>(payload.length), 0};
  return SendFramed(env, comm, Int(info, 1), Int(info, 2), header, payload);
}

// isendHeader(comm, dest, tag, word0, sequence, total) → 0 or handle: the header of a large
// message, [word0, sequence, total (low), total (high)], whose payload follows on the data
// communicator.
Napi::Value IsendHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  if (comm == MPI_COMM_NULL) return env.Undefined();
  int64_t total = info[5].As<Napi::Number>().Int64Value();
  const int32_t header[4] = {Int(info, 3), Int(info, 4), static_cast<int32_t>(total & 0xffffffff), static_cast<int32_t>(total >> 32)};
  return SendFramed(env, comm, Int(info, 1), Int(info, 2), header, Bytes());
}

// irecv(comm, source, tag, view, bytes, into | null) → handle; source/tag -1 mean any. With
// `into`, a small typed-array message that fits is copied there on completion (Deliver).
Napi::Value Irecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  void* data = nullptr;
  int32_t bytes = Int(info, 4);
  if (comm == MPI_COMM_NULL || !BufferArg(info, 3, bytes, &data)) return env.Undefined();
  Delivery delivery;
  if (info.Length() > 5 && info[5].IsTypedArray()) {
    Bytes into = BytesOf(env, info[5]);
    delivery = {static_cast<char*>(data), static_cast<char*>(into.data), into.length, into.elementBytes};
  }
  Runtime& rt = runtime();
  std::lock_guard<std::mutex> lock(rt.mpi);
  MPI_Request request;
  if (!CheckMpi(env, MPI_Irecv(data, bytes, MPI_BYTE, SourceArg(Int(info, 1)), TagArg(Int(info, 2)), comm, &request), "MPI_Irecv")) {
    return env.Undefined();
  }
  return Napi::Number::New(env, rt.requests.Add(request, nullptr, delivery));
}

// improbe(comm, source, tag, view, capacity) → 0 when no matching message has arrived; else
// the message is taken off MPI's queue (MPI_Improbe) and received into `view` (MPI_Imrecv):
// the handle of that receive, with the message's source, tag and size in probeStatus.
Napi::Value Improbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MPI_Comm comm = CommAt(env, info[0]);
  void* data = nullptr;
  int32_t capacity = Int(info, 4);
  if (comm == MPI_COMM_NULL || !BufferArg(info, 3, capacity, &data)) return env.Undefined();
  Runtime& rt = runtime();
  std::lock_guard<std::mutex> lock(rt.mpi);
  int found = 0;
  MPI_Message message;
  MPI_Status status;
  if (!CheckMpi(env, MPI_Improbe(SourceArg(Int(info, 1)), TagArg(Int(info, 2)), comm, &found, &message, &status), "MPI_Improbe")) {
    return env.Undefined();
  }
  if (!found) return Napi::Number::New(env, 0);
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  rt.probeStatus[0] = status.MPI_SOURCE;
  rt.probeStatus[1] = status.MPI_TAG;
  rt.probeStatus[2] = count;
  MPI_Request request;
  // A message larger than `capacity` fails with MPI_ERR_TRUNCATE in its completion.
  if (!CheckMpi(env, MPI_Imrecv(data, capacity, MPI_BYTE, &message, &request), "MPI_Imrecv")) return env.Undefined();
  return Napi::Number::New(env, rt.requests.Add(request));
}

// cancel(handle) → whether MPI_Cancel was called on that request (a receive a dropped
// session cell left posted); it completes later, with error kCancelled if the cancel won.
Napi::Value Cancel(const Napi::CallbackInfo& info) {
  Runtime& rt = runtime();
  std::lock_guard<std::mutex> lock(rt.mpi);
  return Napi::Boolean::New(info.Env(), rt.requests.Cancel(Int(info, 0)));
}

}  // namespace

void InitP2p(Napi::Env env, Napi::Object exports) {
  exports.Set("isend", Napi::Function::New(env, Isend, "isend"));
  exports.Set("isendInline", Napi::Function::New(env, IsendInline, "isendInline"));
  exports.Set("isendHeader", Napi::Function::New(env, IsendHeader, "isendHeader"));
  exports.Set("irecv", Napi::Function::New(env, Irecv, "irecv"));
  exports.Set("improbe", Napi::Function::New(env, Improbe, "improbe"));
  exports.Set("cancel", Napi::Function::New(env, Cancel, "cancel"));
}

}  // namespace tslab
