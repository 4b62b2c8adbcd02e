// NativeIo: the JavaScript class over one EventThread (media/io/nativePacketIo.ts
// wraps it into the PacketIo seam). One per media worker; a worker_thread may load
// the addon while others have it loaded too (it keeps no global state).
#pragma once

#include <napi.h>
#include <uv.h>

#include "arena.h"
#include "event_thread.h"
#include "send_ring.h"

namespace callwatch {

class NativeIo;

// The native side of one NativeIo: the event thread and the uv_async_t that wakes the
// JavaScript thread. It outlives its NativeIo until libuv has closed the handle
// (uv_close is asynchronous), and it closes itself when the environment tears down
// (a worker exits) through an async cleanup hook.
struct Pump {
  uv_async_t async;
  EventThread thread;
  SendRing sends;  // the JavaScript thread's batched sends (send_ring.h)
  NativeIo* owner;
  napi_async_cleanup_hook_handle hook = nullptr;
  bool closing = false;

  Pump(const Arena& arena, NativeIo* owner);
  // Stops the thread (closing every socket) and closes the handle; deletes itself
  // once libuv is done. Idempotent.
  void Close();
};

class NativeIo : public Napi::ObjectWrap<NativeIo> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeIo(const Napi::CallbackInfo& info);
  ~NativeIo() override;

  // The arena is ready: calls onReady(n) and gives the arena back to the thread.
  void Deliver();
  // Called by a closing Pump: this io no longer has one.
  void Detach() { pump_ = nullptr; }

 private:
  Napi::Value Bind(const Napi::CallbackInfo& info);
  Napi::Value CloseSocket(const Napi::CallbackInfo& info);
  Napi::Value Send4(const Napi::CallbackInfo& info);
  Napi::Value Send6(const Napi::CallbackInfo& info);
  Napi::Value SendQueue(const Napi::CallbackInfo& info);
  Napi::Value SendsUseRing(const Napi::CallbackInfo& info);
  Napi::Value NoSendRing(const Napi::CallbackInfo& info);
  Napi::Value NoRecvRing(const Napi::CallbackInfo& info);
  Napi::Value RecvUsesRing(const Napi::CallbackInfo& info);
  Napi::Value NoRelaySendRing(const Napi::CallbackInfo& info);
  Napi::Value TakeRelayCounts(const Napi::CallbackInfo& info);
  Napi::Value TakeTapped(const Napi::CallbackInfo& info);
  Napi::Value Relay(const Napi::CallbackInfo& info);
  Napi::Value Unrelay(const Napi::CallbackInfo& info);
  Napi::Value RecorderOpen(const Napi::CallbackInfo& info);
  Napi::Value RecorderClose(const Napi::CallbackInfo& info);
  Napi::Value RecorderTracks(const Napi::CallbackInfo& info);
  Napi::Value RecorderPlaceLaw(const Napi::CallbackInfo& info);
  Napi::Value RecorderPlacePcm(const Napi::CallbackInfo& info);
  Napi::Value RecorderTake(const Napi::CallbackInfo& info);
  Napi::Value RecorderStats(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value CpuMs(const Napi::CallbackInfo& info);

  Pump* pump_ = nullptr;
  uint32_t nextToken_ = 1;
  double finalCpuMs_ = 0;  // the event thread's CPU, kept when the pump closes
  napi_async_context asyncContext_ = nullptr;
  Napi::FunctionReference onReady_;
  Napi::Reference<Napi::ArrayBuffer> data_;
  Napi::Reference<Napi::ArrayBuffer> meta_;
  Napi::Reference<Napi::ArrayBuffer> arrival_;
};

}  // namespace callwatch
