// Progress: JS calls progress() to test every request once (it spins on that briefly while it
// waits); when a wait lasts longer it parks, and this addon's own progress thread takes over
// the polling, backing off from spinning to yielding to sleeping, and wakes the event loop
// through a thread-safe function when a request completes or a watched message arrives.
//
// Why a thread of our own: a blocking MPI call in the libuv pool would hold one of its four
// threads per wait (four waits and the pool, fs and dns included, deadlock), and MPI_Wait
// cannot be interrupted. Testing in a loop here costs nothing to JS while it sleeps.
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>

#include "runtime.h"

namespace tslab {
namespace {

using Clock = std::chrono::steady_clock;

struct Watch {
  MPI_Comm comm;
  int source;
  int tag;
};

class ProgressThread {
 public:
  bool Start(napi_env env, napi_value onWake) {
    if (thread_.joinable()) return true;
    napi_value name;
    napi_create_string_utf8(env, "tslab-mpi-progress", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, onWake, nullptr, name, 0, 1, nullptr, nullptr, nullptr, nullptr, &wake_) != napi_ok) {
      return false;
    }
    // The thread never keeps the process alive: a rank that waits holds the loop itself.
    napi_unref_threadsafe_function(env, wake_);
    stop_ = false;
    thread_ = std::thread([this] { Run(); });
    return true;
  }

  void Park(std::vector<Watch> watches, bool streaming) {
    {
      std::lock_guard<std::mutex> lock(m_);
      watches_ = std::move(watches);
      streaming_ = streaming;
      epoch_++;
      parked_ = true;
    }
    cv_.notify_one();
  }

  void Unpark() { parked_ = false; }

  void Stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
      parked_ = false;
    }
    cv_.notify_one();
    thread_.join();
    if (wake_ != nullptr) napi_release_threadsafe_function(wake_, napi_tsfn_abort);
    wake_ = nullptr;
  }

  void SetBackoff(int64_t spinNs, int64_t yieldNs, int64_t maxSleepNs) {
    spinNs_ = spinNs;
    yieldNs_ = yieldNs;
    maxSleepNs_ = maxSleepNs < 1000 ? 1000 : maxSleepNs;
  }

  void ClearWake() { wakePending_.store(false, std::memory_order_relaxed); }
  bool running() const { return thread_.joinable(); }

 private:
  void Run() {
    prctl(PR_SET_TIMERSLACK, 1000UL);  // sleeps of a few microseconds should last about that
    Runtime& rt = runtime();
    for (;;) {
      std::vector<Watch> watches;
      uint64_t epoch;
      bool streaming;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [this] { return parked_.load() || stop_; });
        if (stop_) return;
        watches = watches_;
        epoch = epoch_;
        streaming = streaming_;
      }
      Clock::time_point start = Clock::now();
      int64_t sleepNs = 1000;
      while (parked_.load(std::memory_order_relaxed)) {
        bool hit = false;
        {
          std::lock_guard<std::mutex> lock(rt.mpi);
          if (rt.finalized) return;
          rt.requests.TestAll(rt.found);
          hit = !rt.found.empty();
          for (const Watch& w : watches) {
            int flag = 0;
            if (!hit && MPI_Iprobe(w.source, w.tag, w.comm, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && flag) hit = true;
          }
        }
        if (hit) {
          {
            std::lock_guard<std::mutex> lock(m_);
            if (epoch_ == epoch) parked_ = false;  // JS parks again if it still waits
          }
          Wake();
          break;
        }
        int64_t elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
        if (elapsed < spinNs_) continue;
        // A large transfer moves only while someone tests it (Open MPI's shared-memory copy runs
        // in the progress engine): never sleep then, or every sleep adds to the transfer.
        if (elapsed < yieldNs_ || streaming) {
          sched_yield();
          continue;
        }
        timespec ts{0, static_cast<long>(sleepNs)};
        nanosleep(&ts, nullptr);
        // A wait that has lasted a tenth of a second is a long one: poll four times less often.
        int64_t cap = elapsed > 100'000'000 ? 4 * maxSleepNs_ : maxSleepNs_;
        sleepNs = sleepNs * 2 > cap ? cap : sleepNs * 2;
        std::lock_guard<std::mutex> lock(m_);
        if (epoch_ != epoch) break;  // parked again with other watches: start over
      }
    }
  }

  void Wake() {
    if (wakePending_.exchange(true)) return;  // one wake-up at a time is enough
    napi_call_threadsafe_function(wake_, nullptr, napi_tsfn_nonblocking);
  }

  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  std::atomic<bool> parked_{false};
  bool stop_ = false;
  uint64_t epoch_ = 0;
  std::vector<Watch> watches_;
  bool streaming_ = false;
  napi_threadsafe_function wake_ = nullptr;
  std::atomic<bool> wakePending_{false};
  int64_t spinNs_ = 20000;
  int64_t yieldNs_ = 200000;
  int64_t maxSleepNs_ = 500000;
};

ProgressThread& progressThread() {
  static ProgressThread* instance = new ProgressThread();
  return *instance;
}

// Copies what was found into the shared array; callers hold Runtime::mpi.
size_t HandOver(Runtime& rt) {
  size_t n = rt.found.size() < rt.completionCapacity ? rt.found.size() : rt.completionCapacity;
  for (size_t i = 0; i < n; i++) {
    const Completion& c = rt.found[i];
    int32_t* out = rt.completions + i * kCompletionInts;
    out[0] = c.handle;
    out[1] = c.source;
    out[2] = c.tag;
    out[3] = c.bytes;
    out[4] = c.error;
    out[5] = c.copied;
  }
  rt.found.erase(rt.found.begin(), rt.found.begin() + n);
  return n;
}

// progress() → number of completions written into the shared Int32Array.
Napi::Value Progress(const Napi::CallbackInfo& info) {
  Runtime& rt = runtime();
  progressThread().ClearWake();
  std::lock_guard<std::mutex> lock(rt.mpi);
  if (!rt.finalized) rt.requests.TestAll(rt.found);
  return Napi::Number::New(info.Env(), static_cast<double>(HandOver(rt)));
}

// progressSpin(maxNs) → like progress(), but tests again and again until something completes
// or maxNs have passed (0 then). Spinning here rather than in JS costs one call per wait, not
// one per test, which is most of a small message's round trip.
Napi::Value ProgressSpin(const Napi::CallbackInfo& info) {
  Runtime& rt = runtime();
  progressThread().ClearWake();
  int64_t maxNs = info[0].As<Napi::Number>().Int64Value();
  Clock::time_point deadline = Clock::now() + std::chrono::nanoseconds(maxNs);
  for (unsigned i = 1;; i++) {
    {
      std::lock_guard<std::mutex> lock(rt.mpi);
      if (!rt.finalized) rt.requests.TestAll(rt.found);
      if (!rt.found.empty() || rt.finalized) return Napi::Number::New(info.Env(), static_cast<double>(HandOver(rt)));
    }
    // Reading the clock costs more than a test on some machines: look every 16 tests.
    if ((i & 15) == 0 && Clock::now() >= deadline) return Napi::Number::New(info.Env(), 0);
  }
}

// startProgress(onWake): the thread that polls while JS sleeps; onWake() runs on the JS thread.
Napi::Value StartProgress(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) {
    Napi::TypeError::New(info.Env(), "startProgress(onWake: () => void)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  if (!progressThread().Start(info.Env(), info[0])) {
    Napi::Error::New(info.Env(), "could not create the progress thread's wake-up").ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

// park(watches: Int32Array | null, streaming: boolean): poll in the background; watches are
// (comm, source, tag) triples whose arrival (MPI_Iprobe) should wake JS too, for probe() waits;
// `streaming`: a large transfer is in flight, so keep polling without sleeping.
Napi::Value Park(const Napi::CallbackInfo& info) {
  std::vector<Watch> watches;
  if (info.Length() > 0 && info[0].IsTypedArray()) {
    Napi::Int32Array triples = info[0].As<Napi::Int32Array>();
    Runtime& rt = runtime();
    for (size_t i = 0; i + 2 < triples.ElementLength(); i += 3) {
      int32_t comm = triples[i];
      if (comm < 0 || static_cast<size_t>(comm) >= rt.comms.size() || rt.comms[comm] == MPI_COMM_NULL) continue;
      watches.push_back({rt.comms[comm], SourceArg(triples[i + 1]), TagArg(triples[i + 2])});
    }
  }
  progressThread().Park(std::move(watches), info.Length() > 1 && info[1].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value Unpark(const Napi::CallbackInfo& info) {
  progressThread().Unpark();
  return info.Env().Undefined();
}

// setBackoff(spinNs, yieldNs, maxSleepNs): how the thread polls as a wait goes on.
Napi::Value SetBackoff(const Napi::CallbackInfo& info) {
  progressThread().SetBackoff(info[0].As<Napi::Number>().Int64Value(), info[1].As<Napi::Number>().Int64Value(),
                              info[2].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}

void CleanupHook(void*) { progressThread().Stop(); }

}  // namespace

void StopProgressThread() { progressThread().Stop(); }

void InitProgress(Napi::Env env, Napi::Object exports) {
  exports.Set("progress", Napi::Function::New(env, Progress, "progress"));
  exports.Set("progressSpin", Napi::Function::New(env, ProgressSpin, "progressSpin"));
  exports.Set("startProgress", Napi::Function::New(env, StartProgress, "startProgress"));
  exports.Set("park", Napi::Function::New(env, Park, "park"));
  exports.Set("unpark", Napi::Function::New(env, Unpark, "unpark"));
  exports.Set("setBackoff", Napi::Function::New(env, SetBackoff, "setBackoff"));
  napi_add_env_cleanup_hook(env, CleanupHook, nullptr);
}

}  // namespace tslab
