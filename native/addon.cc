// The addon's entry: one instance per environment (main thread or worker_thread),
// exporting the NativeIo class and the clock it stamps arrivals with.
#include <napi.h>

#include "clock.h"
#include "native_io.h"
#include "sip_socket.h"

// At global scope: NODE_API_ADDON pastes the class name into identifiers.
class CallwatchAddon : public Napi::Addon<CallwatchAddon> {
 public:
  CallwatchAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
                             InstanceValue("NativeIo", callwatch::NativeIo::Define(env)),
                             InstanceMethod<&CallwatchAddon::Monotonic>("monotonicMs"),
                             InstanceMethod<&CallwatchAddon::SetBuffers>("setSocketBuffers"),
                             InstanceMethod<&CallwatchAddon::LocalPort>("localPort"),
                         });
  }

 private:
  // CLOCK_MONOTONIC in ms: JavaScript subtracts it from performance.now() once.
  Napi::Value Monotonic(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), callwatch::MonotonicMs());
  }

  // setSocketBuffers(fd, bytes) -> 0 or errno (the SIP UDP socket, sip_socket.h)
  Napi::Value SetBuffers(const Napi::CallbackInfo& info) {
    int fd = info[0].As<Napi::Number>().Int32Value();
    int bytes = info[1].As<Napi::Number>().Int32Value();
    return Napi::Number::New(info.Env(), callwatch::SetSocketBuffers(fd, bytes));
  }

  // localPort(fd) -> port or -errno
  Napi::Value LocalPort(const Napi::CallbackInfo& info) {
    int fd = info[0].As<Napi::Number>().Int32Value();
    return Napi::Number::New(info.Env(), callwatch::LocalPort(fd));
  }
};

NODE_API_ADDON(CallwatchAddon)
