// MPI_Allreduce of a few values by recursive doubling over MPI_Isend/MPI_Irecv, spun on here, in
// C, for up to a budget; what is not done by then finishes through progress() like any request
// (AdvanceSmallAllreduces). collectives.cc binds it to JS as allreduceSmall.
//
// Why not MPI_Iallreduce: Open MPI's nonblocking collectives (libnbc) build a schedule per call,
// about half a microsecond for one double, more than the exchange itself (bench/comm/mpi.ts
// measures both); the blocking MPI_Allreduce is fast but cannot be left when a rank is late, and
// a rank must stay interruptible. Power-of-two communicators only (each rank meets log2(size)
// partners, one per round); the caller sends others to MPI_Iallreduce.
//
// Every rank combines each pair of partial results in the same order (the lower half's first),
// so all ranks end with the same bits even for an op that is not commutative on every input
// (MIN and MAX with NaN). Each call takes the next tag of its communicator: calls in flight
// together never take each other's messages.
#include <chrono>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "runtime.h"

namespace tslab {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kTagBase = 1000;
constexpr int kTagSpan = 16384;

struct SmallAllreduce {
  int32_t handle = 0;
  MPI_Comm comm = MPI_COMM_NULL;
  MPI_Datatype type = MPI_DATATYPE_NULL;
  MPI_Op op = MPI_OP_NULL;
  int count = 0;
  int rank = 0;
  int size = 1;
  int tag = 0;
  int mask = 1;  // the round: the partner is rank ^ mask
  size_t bytes = 0;
  char* result = nullptr;  // the caller's receive buffer (held alive by JS until completion)
  std::unique_ptr<char[]> outgoing;  // what this round sends (the result may change meanwhile)
  std::unique_ptr<char[]> incoming;
  MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  int error = 0;
};

std::vector<std::unique_ptr<SmallAllreduce>>& inFlight() {
  static auto* list = new std::vector<std::unique_ptr<SmallAllreduce>>();
  return *list;
}

std::unordered_map<MPI_Comm, uint32_t>& callsOn() {
  static auto* counts = new std::unordered_map<MPI_Comm, uint32_t>();
  return *counts;
}

// Posts the exchange of the current round; callers hold Runtime::mpi.
int PostRound(SmallAllreduce& a) {
  const int partner = a.rank ^ a.mask;
  std::memcpy(a.outgoing.get(), a.result, a.bytes);
  int rc = MPI_Irecv(a.incoming.get(), a.count, a.type, partner, a.tag, a.comm, &a.requests[0]);
  if (rc != MPI_SUCCESS) return rc;
  return MPI_Isend(a.outgoing.get(), a.count, a.type, partner, a.tag, a.comm, &a.requests[1]);
}

// Tests the round in flight; when both of its messages are done, combines and starts the next.
// Returns true when the whole reduction is done (or failed: a.error).
bool Advance(SmallAllreduce& a) {
  for (;;) {
    int done = 0;
    int rc = MPI_Testall(2, a.requests, &done, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS) {
      a.error = rc;
      return true;
    }
    if (!done) return false;
    const int partner = a.rank ^ a.mask;
    // result = lower half's partial op upper half's, on both partners alike.
    if (partner < a.rank) {
      rc = MPI_Reduce_local(a.incoming.get(), a.result, a.count, a.type, a.op);
    } else {
      rc = MPI_Reduce_local(a.result, a.incoming.get(), a.count, a.type, a.op);
      std::memcpy(a.result, a.incoming.get(), a.bytes);
    }
    if (rc == MPI_SUCCESS) {
      a.mask <<= 1;
      if (a.mask >= a.size) return true;
      rc = PostRound(a);
    }
    if (rc != MPI_SUCCESS) {
      a.error = rc;
      return true;
    }
  }
}

// An operation that failed may still have a request in flight into its buffers: kept, never
// freed, so that MPI never writes into freed memory (errors end the rank in practice).
void Retire(std::unique_ptr<SmallAllreduce> a) {
  static auto* failed = new std::vector<std::unique_ptr<SmallAllreduce>>();
  if (a->requests[0] != MPI_REQUEST_NULL || a->requests[1] != MPI_REQUEST_NULL) failed->push_back(std::move(a));
}

}  // namespace

int32_t StartSmallAllreduce(MPI_Comm comm, const void* send, void* recv, int count, MPI_Datatype type, MPI_Op op, int64_t spinNs, int* rc) {
  auto a = std::make_unique<SmallAllreduce>();
  a->comm = comm;
  a->type = type;
  a->op = op;
  a->count = count;
  int typeBytes = 0;
  MPI_Type_size(type, &typeBytes);
  a->bytes = static_cast<size_t>(count) * static_cast<size_t>(typeBytes);
  a->result = static_cast<char*>(recv);
  MPI_Comm_rank(comm, &a->rank);
  MPI_Comm_size(comm, &a->size);
  a->tag = kTagBase + static_cast<int>(callsOn()[comm]++ % kTagSpan);
  if (send != MPI_IN_PLACE && send != recv) std::memmove(a->result, send, a->bytes);
  *rc = MPI_SUCCESS;
  if (a->size == 1) return 0;
  a->outgoing.reset(new char[a->bytes]);
  a->incoming.reset(new char[a->bytes]);
  *rc = PostRound(*a);
  const Clock::time_point deadline = Clock::now() + std::chrono::nanoseconds(spinNs);
  for (unsigned i = 1; *rc == MPI_SUCCESS; i++) {
    if (Advance(*a)) {
      *rc = a->error;
      break;
    }
    if ((i & 15) == 0 && Clock::now() >= deadline) {
      a->handle = runtime().requests.Reserve();
      const int32_t handle = a->handle;
      inFlight().push_back(std::move(a));
      return handle;
    }
  }
  if (*rc != MPI_SUCCESS) Retire(std::move(a));
  return 0;
}

void AdvanceSmallAllreduces(std::vector<Completion>& out) {
  auto& list = inFlight();
  for (size_t i = 0; i < list.size();) {
    SmallAllreduce& a = *list[i];
    if (!Advance(a)) {
      i++;
      continue;
    }
    out.push_back(Completion{a.handle, MPI_PROC_NULL, a.tag, static_cast<int32_t>(a.bytes), a.error, 0});
    if (a.error != MPI_SUCCESS) Retire(std::move(list[i]));
    list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

}  // namespace tslab
