// What every part of the addon shares: the lock that serialises MPI calls, the table of
// communicators, the requests in flight and the completions found but not yet handed to JS.
#pragma once

#include <mpi.h>
#include <napi.h>

#include <cstdint>
#include <mutex>
#include <vector>

namespace tslab {

// One finished request as JS reads it: six int32 per completion in the shared array.
struct Completion {
  int32_t handle;
  int32_t source;
  int32_t tag;
  int32_t bytes;
  int32_t error;
  // 1 when the payload of a small typed-array message was already copied into the receive's
  // typed array (see Delivery); JS then only fills in the status.
  int32_t copied;
};
constexpr int kCompletionInts = 6;
// The error of a completion whose request was cancelled (MPI's error codes are >= 0).
constexpr int32_t kCancelled = -1;

// Where a receive of a context message should put a small typed-array payload: the caller's
// typed array (kept alive by JS until the receive completes). The header is the one
// src/comm/mpi/frames.ts writes: word 0 = kind | dtype << 8 | large << 16, kind 1 = typed array.
struct Delivery {
  char* staging = nullptr;
  char* into = nullptr;
  size_t capacity = 0;
  size_t elementBytes = 1;
};

// Requests in flight, tested together with MPI_Testsome (one call however many are
// outstanding). Handles are small positive integers
// JS maps to its own operation records. Callers hold Runtime::mpi.
class Requests {
 public:
  // `owned`: a staging buffer (TakeStaging) given back when the request completes;
  // `delivery`: where a small typed-array message goes once received.
  int32_t Add(MPI_Request request, char* owned = nullptr, Delivery delivery = Delivery());
  // Tests every request once; appends what finished to `out`; returns how many.
  int TestAll(std::vector<Completion>& out);
  // MPI_Cancel on the request of `handle` (a receive nobody wants any more); it still
  // completes through TestAll, with kCancelled as its error when the cancel took effect.
  bool Cancel(int32_t handle);
  // A handle for an operation that completes through TestAll without an MPI_Request of its own
  // (allreduceSmall's reductions in flight).
  int32_t Reserve();
  size_t size() const { return active_.size(); }

 private:
  std::vector<MPI_Request> active_;
  std::vector<int32_t> handles_;
  std::vector<char*> owned_;
  std::vector<Delivery> deliveries_;
  std::vector<int> indices_;
  std::vector<MPI_Status> statuses_;
  int32_t next_ = 1;
};

struct Runtime {
  // MPI runs at MPI_THREAD_SERIALIZED: the JS thread and the progress thread both call it,
  // never at the same time. Uncontended, this lock costs tens of nanoseconds.
  std::mutex mpi;
  Requests requests;
  // Completions the progress thread found while JS slept; handed over by progress().
  std::vector<Completion> found;
  std::vector<MPI_Comm> comms;
  bool initialized = false;
  bool finalized = false;
  // The JS Int32Array completions are written into (kept alive by `completionsRef`).
  int32_t* completions = nullptr;
  size_t completionCapacity = 0;
  Napi::Reference<Napi::Int32Array> completionsRef;
  // Where improbe() writes the source, tag and size of the message it took.
  int32_t* probeStatus = nullptr;
  Napi::Reference<Napi::Int32Array> probeStatusRef;
};

// Small messages travel with a 16-byte header in front (src/comm/mpi/frames.ts); sends of
// them are copied into one of these buffers, so the caller's array is free at once.
constexpr size_t kStagingBytes = 4032;
char* TakeStaging();          // callers hold Runtime::mpi
void GiveStaging(char* buffer);

// Never destroyed: the progress thread and exit handlers may use it until the process ends.
Runtime& runtime();

// Throws a JS Error naming the MPI call and MPI's own message; returns false when it did.
bool CheckMpi(Napi::Env env, int rc, const char* call);
std::string MpiErrorString(int rc);

MPI_Comm CommAt(Napi::Env env, const Napi::Value& index);
int SourceArg(int32_t source);  // -1 (ANY_SOURCE in JS) → MPI_ANY_SOURCE
int TagArg(int32_t tag);        // -1 (ANY_TAG in JS) → MPI_ANY_TAG

// The bytes of a typed array (zero-copy); empty when the value is not one.
struct Bytes {
  void* data = nullptr;
  size_t length = 0;
  size_t elementBytes = 1;
  bool ok = false;
};
Bytes BytesOf(napi_env env, napi_value value);

// The MPI datatype and op of a JS wire code (src/comm/buffers.ts) and op code
// (src/comm/mpi/collectives.ts); MPI_DATATYPE_NULL / MPI_OP_NULL for none.
MPI_Datatype DatatypeOf(int32_t code);
MPI_Op OpOf(int32_t code);

// small-allreduce.cc. StartSmallAllreduce: an allreduce of at most kSmallAllreduceBytes on a
// power-of-two communicator (`send` may be MPI_IN_PLACE), spun on for up to spinNs; returns 0
// when done (or failed: *rc is the MPI error), else a handle that TestAll completes.
// AdvanceSmallAllreduces: moves those in flight on, appending the finished ones; called by
// Requests::TestAll, so every progress step includes them. Callers hold Runtime::mpi.
constexpr size_t kSmallAllreduceBytes = 4096;
int32_t StartSmallAllreduce(MPI_Comm comm, const void* send, void* recv, int count, MPI_Datatype type, MPI_Op op, int64_t spinNs, int* rc);
void AdvanceSmallAllreduces(std::vector<Completion>& out);

// Registration of each part's exports.
void InitLifecycle(Napi::Env env, Napi::Object exports);
void InitProgress(Napi::Env env, Napi::Object exports);
void InitP2p(Napi::Env env, Napi::Object exports);
void InitCollectives(Napi::Env env, Napi::Object exports);
void InitComms(Napi::Env env, Napi::Object exports);

// library.cc: makes libmpi's symbols global before MPI_Init (Open MPI's plugins need them).
std::string PromoteLibmpiToGlobal();

// progress.cc: stops the progress thread (before MPI_Finalize or MPI_Abort).
void StopProgressThread();

}  // namespace tslab
