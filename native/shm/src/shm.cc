// map(fd, bytes) -> SharedArrayBuffer over mmap(fd) (MAP_SHARED), unmapped when V8 frees it.
// A real SharedArrayBuffer, not an external ArrayBuffer: Atomics on it are the ones V8 uses
// between threads, and the processes that map the same file see one memory.
// anonymous(bytes) -> SharedArrayBuffer over zeroed anonymous memory whose pages are all made
// resident at once (MAP_POPULATE), for shared(): on a virtual machine a page fault costs some
// 2.5 µs, and a loop's first pass over a fresh 80 MB array took 50 ms of faults.
// The V8 API, not Node-API: Node-API has no way to make a SharedArrayBuffer over external memory.
#include <node.h>
#include <v8.h>

#include <sys/mman.h>
#include <cerrno>
#include <cstring>
#include <string>

namespace {

void Throw(v8::Isolate* isolate, const std::string& message) {
  isolate->ThrowException(v8::Exception::Error(v8::String::NewFromUtf8(isolate, message.c_str()).ToLocalChecked()));
}

void Unmap(void* data, size_t length, void* /*deleter_data*/) {
  munmap(data, length);
}

void Map(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (info.Length() < 2 || !info[0]->IsInt32() || !info[1]->IsNumber()) {
    return Throw(isolate, "map(fd, bytes): fd must be an integer and bytes a number");
  }
  const int fd = info[0]->Int32Value(context).FromJust();
  const double wanted = info[1]->NumberValue(context).FromJust();
  if (!(wanted > 0) || wanted > 1e12) return Throw(isolate, "map(fd, bytes): bytes must be positive");
  const size_t bytes = static_cast<size_t>(wanted);
  void* data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) return Throw(isolate, std::string("mmap of the shared file failed: ") + std::strerror(errno));
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(data, bytes, Unmap, nullptr);
  info.GetReturnValue().Set(v8::SharedArrayBuffer::New(isolate, std::move(store)));
}

void Anonymous(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (info.Length() < 1 || !info[0]->IsNumber()) return Throw(isolate, "anonymous(bytes): bytes must be a number");
  const double wanted = info[0]->NumberValue(context).FromJust();
  if (!(wanted > 0) || wanted > 1e12) return Throw(isolate, "anonymous(bytes): bytes must be positive");
  const size_t bytes = static_cast<size_t>(wanted);
#ifdef MAP_POPULATE
  const int populate = MAP_POPULATE;
#else
  const int populate = 0;  // (macOS) pages fault in as they are first touched
#endif
  void* data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | populate, -1, 0);
  if (data == MAP_FAILED) return Throw(isolate, std::string("mmap of ") + std::to_string(bytes) + " bytes failed: " + std::strerror(errno));
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(data, bytes, Unmap, nullptr);
  info.GetReturnValue().Set(v8::SharedArrayBuffer::New(isolate, std::move(store)));
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  v8::Isolate* isolate = context->GetIsolate();
  exports
      ->Set(context, v8::String::NewFromUtf8Literal(isolate, "map"),
            v8::FunctionTemplate::New(isolate, Map)->GetFunction(context).ToLocalChecked())
      .Check();
  exports
      ->Set(context, v8::String::NewFromUtf8Literal(isolate, "anonymous"),
            v8::FunctionTemplate::New(isolate, Anonymous)->GetFunction(context).ToLocalChecked())
      .Check();
}
