// The shared state and the small helpers every part uses.
#include "runtime.h"

namespace tslab {

Runtime& runtime() {
  static Runtime* instance = new Runtime();  // leaked on purpose: used until exit
  return *instance;
}

std::string MpiErrorString(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(rc);
  return std::string(text, length);
}

bool CheckMpi(Napi::Env env, int rc, const char* call) {
  if (rc == MPI_SUCCESS) return true;
  Napi::Error error = Napi::Error::New(env, std::string(call) + " failed: " + MpiErrorString(rc));
  error.Set("mpiError", Napi::Number::New(env, rc));
  error.ThrowAsJavaScriptException();
  return false;
}

MPI_Comm CommAt(Napi::Env env, const Napi::Value& index) {
  Runtime& rt = runtime();
  int32_t i = index.As<Napi::Number>().Int32Value();
  if (i < 0 || static_cast<size_t>(i) >= rt.comms.size() || rt.comms[i] == MPI_COMM_NULL) {
    Napi::RangeError::New(env, "no MPI communicator " + std::to_string(i) + " (freed, or never made)")
        .ThrowAsJavaScriptException();
    return MPI_COMM_NULL;
  }
  return rt.comms[i];
}

int SourceArg(int32_t source) { return source == -1 ? MPI_ANY_SOURCE : source; }
int TagArg(int32_t tag) { return tag == -1 ? MPI_ANY_TAG : tag; }

Bytes BytesOf(napi_env env, napi_value value) {
  Bytes out;
  bool isTypedArray = false;
  if (napi_is_typedarray(env, value, &isTypedArray) != napi_ok || !isTypedArray) return out;
  napi_typedarray_type type;
  size_t length = 0;
  napi_value arrayBuffer;
  size_t offset = 0;
  // `data` already points at the view's first element (byte offset included).
  if (napi_get_typedarray_info(env, value, &type, &length, &out.data, &arrayBuffer, &offset) != napi_ok) return out;
  size_t elementBytes = 1;
  switch (type) {
    case napi_int16_array:
    case napi_uint16_array:
      elementBytes = 2;
      break;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      elementBytes = 4;
      break;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      elementBytes = 8;
      break;
    default:
      break;
  }
  out.length = length * elementBytes;
  out.elementBytes = elementBytes;
  out.ok = true;
  return out;
}

}  // namespace tslab
