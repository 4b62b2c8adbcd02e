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
                             InstanceMethod<&CallwatchAddon::SendBatch4>("sendBatch4"),
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

  // sendBatch4(fd, data, queue, count) -> datagrams refused (sip_socket.h). The caller
  // (nativeSipSocket.ts) keeps offsets and lengths inside `data`.
  Napi::Value SendBatch4(const Napi::CallbackInfo& info) {
    int fd = info[0].As<Napi::Number>().Int32Value();
    auto data = info[1].As<Napi::Uint8Array>();
    auto queue = info[2].As<Napi::Int32Array>();
    uint32_t count = info[3].As<Napi::Number>().Uint32Value();
    if (static_cast<size_t>(count) * callwatch::BATCH_INTS > queue.ElementLength()) {
      count = static_cast<uint32_t>(queue.ElementLength() / callwatch::BATCH_INTS);
    }
    const int32_t* q = queue.Data();
    for (uint32_t i = 0; i < count; i++, q += callwatch::BATCH_INTS) {
      if (q[0] < 0 || q[1] < 0 || static_cast<size_t>(q[0]) + q[1] > data.ByteLength()) {
        Napi::RangeError::New(info.Env(), "sendBatch4: datagram outside the data")
            .ThrowAsJavaScriptException();
        return info.Env().Undefined();
      }
    }
    return Napi::Number::New(
        info.Env(), callwatch::SendBatch4(fd, data.Data(), queue.Data(), count));
  }

  // localPort(fd) -> port or -errno
  Napi::Value LocalPort(const Napi::CallbackInfo& info) {
    int fd = info[0].As<Napi::Number>().Int32Value();
    return Napi::Number::New(info.Env(), callwatch::LocalPort(fd));
  }
};

NODE_API_ADDON(CallwatchAddon)
