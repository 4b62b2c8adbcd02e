// The addon's entry: one instance per environment (main thread or worker_thread),
// exporting the NativeIo class and the clock it stamps arrivals with.
#include <napi.h>

#include "clock.h"
#include "native_io.h"

// At global scope: NODE_API_ADDON pastes the class name into identifiers.
class CallwatchAddon : public Napi::Addon<CallwatchAddon> {
 public:
  CallwatchAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
                             InstanceValue("NativeIo", callwatch::NativeIo::Define(env)),
                             InstanceMethod<&CallwatchAddon::Monotonic>("monotonicMs"),
                         });
  }

 private:
  // CLOCK_MONOTONIC in ms: JavaScript subtracts it from performance.now() once.
  Napi::Value Monotonic(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), callwatch::MonotonicMs());
  }
};

NODE_API_ADDON(CallwatchAddon)
