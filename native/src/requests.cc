// Requests in flight, tested together in one progress step (one call from JS however many
// operations are outstanding), and the staging buffers of small sends.
#include <cstring>

#include "runtime.h"

namespace tslab {

namespace {
std::vector<char*>& stagingPool() {
  static std::vector<char*>* pool = new std::vector<char*>();
  return *pool;
}
}  // namespace

char* TakeStaging() {
  std::vector<char*>& pool = stagingPool();
  if (pool.empty()) return new char[kStagingBytes];
  char* buffer = pool.back();
  pool.pop_back();
  return buffer;
}

void GiveStaging(char* buffer) {
  std::vector<char*>& pool = stagingPool();
  if (pool.size() < 256) pool.push_back(buffer);
  else delete[] buffer;
}

int32_t Requests::Reserve() {
  int32_t handle = next_;
  next_ = next_ == INT32_MAX ? 1 : next_ + 1;
  return handle;
}

int32_t Requests::Add(MPI_Request request, char* owned, Delivery delivery) {
  int32_t handle = Reserve();
  active_.push_back(request);
  handles_.push_back(handle);
  owned_.push_back(owned);
  deliveries_.push_back(delivery);
  return handle;
}

namespace {
// A small typed-array message that fits: copy its payload where the receive wants it, here,
// while the bytes are hot, instead of making JS views and copying there.
int32_t Deliver(const Delivery& d, int received) {
  if (d.into == nullptr || received < 16) return 0;
  int32_t word0;
  std::memcpy(&word0, d.staging, sizeof word0);
  const bool buffer = (word0 & 0xff) == 1;
  const bool large = (word0 & (1 << 16)) != 0;
  size_t payload = static_cast<size_t>(received) - 16;
  if (!buffer || large || payload > d.capacity || payload % d.elementBytes != 0) return 0;
  std::memcpy(d.into, d.staging + 16, payload);
  return 1;
}
}  // namespace

bool Requests::Cancel(int32_t handle) {
  for (size_t i = 0; i < handles_.size(); i++) {
    if (handles_[i] == handle && active_[i] != MPI_REQUEST_NULL) return MPI_Cancel(&active_[i]) == MPI_SUCCESS;
  }
  return false;
}

int Requests::TestAll(std::vector<Completion>& out) {
  AdvanceSmallAllreduces(out);
  int n = static_cast<int>(active_.size());
  if (n == 0) return 0;
  indices_.resize(n);
  statuses_.resize(n);
  int done = 0;
  int rc = MPI_Testsome(n, active_.data(), &done, indices_.data(), statuses_.data());
  if (done == MPI_UNDEFINED || done <= 0) return 0;
  for (int k = 0; k < done; k++) {
    const MPI_Status& status = statuses_[k];
    Completion c{handles_[indices_[k]], status.MPI_SOURCE, status.MPI_TAG, 0, 0, 0};
    // Statuses carry an error only when Testsome says MPI_ERR_IN_STATUS.
    if (rc == MPI_ERR_IN_STATUS) c.error = status.MPI_ERROR;
    else if (rc != MPI_SUCCESS) c.error = rc;
    int count = 0;
    if (c.error == 0 && MPI_Get_count(&status, MPI_BYTE, &count) == MPI_SUCCESS && count != MPI_UNDEFINED) c.bytes = count;
    int cancelled = 0;
    if (c.error == 0 && MPI_Test_cancelled(&status, &cancelled) == MPI_SUCCESS && cancelled) c.error = kCancelled;
    if (c.error == 0) c.copied = Deliver(deliveries_[indices_[k]], c.bytes);
    out.push_back(c);
  }
  // Completed requests are MPI_REQUEST_NULL now: drop them (and free their staging), keep the rest in order.
  size_t keep = 0;
  for (size_t i = 0; i < active_.size(); i++) {
    if (active_[i] == MPI_REQUEST_NULL) {
      if (owned_[i] != nullptr) GiveStaging(owned_[i]);
      continue;
    }
    active_[keep] = active_[i];
    handles_[keep] = handles_[i];
    owned_[keep] = owned_[i];
    deliveries_[keep] = deliveries_[i];
    keep++;
  }
  active_.resize(keep);
  handles_.resize(keep);
  owned_.resize(keep);
  deliveries_.resize(keep);
  return done;
}

}  // namespace tslab
