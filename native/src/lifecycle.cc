// MPI_Init_thread, MPI_Finalize, MPI_Abort and MPI_Wtime.
#include <cstdlib>
#include <cstring>

#include "runtime.h"

namespace tslab {
namespace {

// init(completions: Int32Array, probeStatus: Int32Array) → { rank, size, tagUb, thread, library, version }
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Runtime& rt = runtime();
  if (!info[0].IsTypedArray() || !info[1].IsTypedArray()) {
    Napi::TypeError::New(env, "init(completions: Int32Array, probeStatus: Int32Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string library = PromoteLibmpiToGlobal();
  int provided = MPI_THREAD_SINGLE;
  if (!rt.initialized) {
    int already = 0;
    MPI_Initialized(&already);
    if (!already && !CheckMpi(env, MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread")) {
      return env.Undefined();
    }
    if (already) MPI_Query_thread(&provided);
    // Errors come back to JS as exceptions, instead of MPI aborting the process.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    rt.comms.push_back(MPI_COMM_WORLD);
    rt.initialized = true;
  }
  Napi::Int32Array completions = info[0].As<Napi::Int32Array>();
  rt.completionsRef = Napi::Persistent(completions);
  rt.completions = completions.Data();
  rt.completionCapacity = completions.ElementLength() / kCompletionInts;
  Napi::Int32Array probeStatus = info[1].As<Napi::Int32Array>();
  rt.probeStatusRef = Napi::Persistent(probeStatus);
  rt.probeStatus = probeStatus.Data();

  int rank = 0, size = 1, flag = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int* tagUb = nullptr;
  MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tagUb, &flag);
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int versionLength = 0;
  MPI_Get_library_version(version, &versionLength);

  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", rank);
  out.Set("size", size);
  out.Set("tagUb", flag && tagUb ? *tagUb : 32767);
  out.Set("threadLevel", provided);
  out.Set("library", library);
  out.Set("version", std::string(version, strnlen(version, versionLength)));
  return out;
}

// finalize(): stops the progress thread, then MPI_Finalize. Idempotent.
Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Runtime& rt = runtime();
  if (!rt.initialized || rt.finalized) return info.Env().Undefined();
  StopProgressThread();
  std::lock_guard<std::mutex> lock(rt.mpi);
  rt.finalized = true;
  MPI_Finalize();
  return info.Env().Undefined();
}

// abort(code): MPI_Abort on the world; does not return.
Napi::Value Abort(const Napi::CallbackInfo& info) {
  int code = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  Runtime& rt = runtime();
  if (rt.initialized && !rt.finalized) {
    StopProgressThread();
    rt.mpi.lock();  // held for good: nothing may call MPI after this
    MPI_Abort(MPI_COMM_WORLD, code);
  }
  std::_Exit(code);
}

Napi::Value Wtime(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), MPI_Wtime()); }

Napi::Value ErrorString(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), MpiErrorString(info[0].As<Napi::Number>().Int32Value()));
}

Napi::Value State(const Napi::CallbackInfo& info) {
  Runtime& rt = runtime();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("initialized", rt.initialized);
  out.Set("finalized", rt.finalized);
  return out;
}

}  // namespace

void InitLifecycle(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  exports.Set("abort", Napi::Function::New(env, Abort, "abort"));
  exports.Set("wtime", Napi::Function::New(env, Wtime, "wtime"));
  exports.Set("errorString", Napi::Function::New(env, ErrorString, "errorString"));
  exports.Set("state", Napi::Function::New(env, State, "state"));
}

}  // namespace tslab
