#include "native_io.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "udp_socket.h"

namespace callwatch {

namespace {

void OnAsync(uv_async_t* handle) {
  auto* pump = static_cast<Pump*>(handle->data);
  if (pump->closing || pump->owner == nullptr) return;
  pump->owner->Deliver();
}

void Wake(void* context) { uv_async_send(static_cast<uv_async_t*>(context)); }

void OnHandleClosed(uv_handle_t* handle) {
  auto* pump = static_cast<Pump*>(handle->data);
  if (pump->owner != nullptr) pump->owner->Detach();
  if (pump->hook != nullptr) napi_remove_async_cleanup_hook(pump->hook);
  delete pump;
}

// The environment is going away (worker exit, process exit) with the io still open.
void OnCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* pump = static_cast<Pump*>(arg);
  pump->hook = handle;
  pump->Close();  // a no-op when already closing: OnHandleClosed removes the hook
}

}  // namespace

Pump::Pump(const Arena& arena, NativeIo* owner_) : thread(arena, Wake, &async), owner(owner_) {}

void Pump::Close() {
  if (closing) return;
  closing = true;
  thread.Stop();
  sends.Close();
  uv_close(reinterpret_cast<uv_handle_t*>(&async), OnHandleClosed);
}

Napi::Function NativeIo::Define(Napi::Env env) {
  return DefineClass(env, "NativeIo",
                     {
                         InstanceMethod<&NativeIo::Bind>("bind"),
                         InstanceMethod<&NativeIo::CloseSocket>("closeSocket"),
                         InstanceMethod<&NativeIo::Send4>("send4"),
                         InstanceMethod<&NativeIo::Send6>("send6"),
                         InstanceMethod<&NativeIo::SendQueue>("sendQueue"),
                         InstanceMethod<&NativeIo::SendsUseRing>("sendsUseRing"),
                         InstanceMethod<&NativeIo::NoSendRing>("noSendRing"),
                         InstanceMethod<&NativeIo::NoRecvRing>("noRecvRing"),
                         InstanceMethod<&NativeIo::RecvUsesRing>("recvUsesRing"),
                         InstanceMethod<&NativeIo::NoRelaySendRing>("noRelaySendRing"),
                         InstanceMethod<&NativeIo::TakeRelayCounts>("takeRelayCounts"),
                         InstanceMethod<&NativeIo::Relay>("relay"),
                         InstanceMethod<&NativeIo::TakeTapped>("takeTapped"),
                         InstanceMethod<&NativeIo::Unrelay>("unrelay"),
                         InstanceMethod<&NativeIo::RecorderOpen>("recorderOpen"),
                         InstanceMethod<&NativeIo::RecorderClose>("recorderClose"),
                         InstanceMethod<&NativeIo::RecorderTracks>("recorderTracks"),
                         InstanceMethod<&NativeIo::RecorderPlaceLaw>("recorderPlaceLaw"),
                         InstanceMethod<&NativeIo::RecorderPlacePcm>("recorderPlacePcm"),
                         InstanceMethod<&NativeIo::RecorderTake>("recorderTake"),
                         InstanceMethod<&NativeIo::RecorderStats>("recorderStats"),
                         InstanceMethod<&NativeIo::Ref>("ref"),
                         InstanceMethod<&NativeIo::Unref>("unref"),
                         InstanceMethod<&NativeIo::Close>("close"),
                         InstanceMethod<&NativeIo::CpuMs>("cpuMs"),
                     });
}

// new NativeIo(data, meta, arrival, slots, slotBytes, onReady)
NativeIo::NativeIo(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeIo>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsArrayBuffer() || !info[1].IsArrayBuffer() ||
      !info[2].IsArrayBuffer() || !info[3].IsNumber() || !info[4].IsNumber() ||
      !info[5].IsFunction()) {
    Napi::TypeError::New(env, "NativeIo(data, meta, arrival, slots, slotBytes, onReady)")
        .ThrowAsJavaScriptException();
    return;
  }
  auto data = info[0].As<Napi::ArrayBuffer>();
  auto meta = info[1].As<Napi::ArrayBuffer>();
  auto arrival = info[2].As<Napi::ArrayBuffer>();
  Arena arena;
  arena.slots = info[3].As<Napi::Number>().Uint32Value();
  arena.slotBytes = info[4].As<Napi::Number>().Uint32Value();
  if (arena.slots < 2 || arena.slotBytes == 0 ||
      data.ByteLength() < static_cast<size_t>(arena.slots) * arena.slotBytes ||
      meta.ByteLength() < static_cast<size_t>(arena.slots) * META_INTS * sizeof(int32_t) ||
      arrival.ByteLength() < static_cast<size_t>(arena.slots) * sizeof(double)) {
    Napi::RangeError::New(env, "NativeIo: arena buffers too small").ThrowAsJavaScriptException();
    return;
  }
  arena.data = static_cast<uint8_t*>(data.Data());
  arena.meta = static_cast<int32_t*>(meta.Data());
  arena.arrival = static_cast<double*>(arrival.Data());
  data_ = Napi::Persistent(data);
  meta_ = Napi::Persistent(meta);
  arrival_ = Napi::Persistent(arrival);
  onReady_ = Napi::Persistent(info[5].As<Napi::Function>());
  napi_async_init(env, Value(), Napi::String::New(env, "callwatch.NativeIo"), &asyncContext_);

  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* pump = new Pump(arena, this);
  pump->async.data = pump;
  uv_async_init(loop, &pump->async, OnAsync);
  uv_unref(reinterpret_cast<uv_handle_t*>(&pump->async));  // ref() while sockets are open
  pump_ = pump;
  napi_add_async_cleanup_hook(env, OnCleanup, pump, &pump->hook);
  int error = pump->thread.Start();
  if (error != 0) {
    pump->Close();
    Napi::Error::New(env, std::string("NativeIo: cannot start the event thread: ") +
                              std::strerror(error))
        .ThrowAsJavaScriptException();
  }
}

NativeIo::~NativeIo() {
  if (pump_ != nullptr) {
    pump_->owner = nullptr;
    pump_->Close();
  }
  if (asyncContext_ != nullptr) napi_async_destroy(Env(), asyncContext_);
}

void NativeIo::Deliver() {
  if (pump_ == nullptr || pump_->closing || asyncContext_ == nullptr) return;
  uint32_t first = 0;
  uint32_t ready = pump_->thread.TakeReady(&first);
  if (ready == 0) return;
  napi_env env = Env();
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value args[2];
  napi_create_uint32(env, first, &args[0]);
  napi_create_uint32(env, ready, &args[1]);
  napi_value result;
  napi_status status = napi_make_callback(env, asyncContext_, Value(), onReady_.Value(), 2,
                                          args, &result);
  if (status == napi_pending_exception) {
    // The receiver must not throw (packetIo.ts): report it as uncaught, as a throwing
    // 'message' listener of node:dgram would be.
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
  if (pump_ != nullptr && !pump_->closing) pump_->thread.Release();
}

// bind(address, port) -> [token, fd] or -errno
Napi::Value NativeIo::Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || pump_->closing) return Napi::Number::New(env, -EBADF);
  std::string address = info[0].As<Napi::String>().Utf8Value();
  int port = info[1].As<Napi::Number>().Int32Value();
  bool isV6 = false;
  int fd = BindUdp(address.c_str(), port, &isV6);
  if (fd < 0) return Napi::Number::New(env, fd);
  uint32_t token = nextToken_++;
  int error = pump_->thread.Add(fd, token);
  if (error != 0) return Napi::Number::New(env, -error);
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, token));
  out.Set(1u, Napi::Number::New(env, fd));
  return out;
}

// closeSocket(token): the port is free when this returns.
Napi::Value NativeIo::CloseSocket(const Napi::CallbackInfo& info) {
  if (pump_ != nullptr) pump_->thread.Remove(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

// send4(fd, buffer, offset, length, port, addr4) -> 0 or errno. The caller keeps the
// arguments valid (nativePacketIo.ts checks them once, not here per datagram).
Napi::Value NativeIo::Send4(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  uint32_t offset = info[2].As<Napi::Number>().Uint32Value();
  uint32_t length = info[3].As<Napi::Number>().Uint32Value();
  int port = info[4].As<Napi::Number>().Int32Value();
  int32_t addr = info[5].As<Napi::Number>().Int32Value();
  int error = EINVAL;
  if (static_cast<size_t>(offset) + length <= buf.Length()) {
    error = SendTo4(fd, buf.Data() + offset, length, port, addr);
  }
  return Napi::Number::New(info.Env(), error);
}

// send6(fd, buffer, offset, length, port, address) -> 0 or errno
Napi::Value NativeIo::Send6(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  uint32_t offset = info[2].As<Napi::Number>().Uint32Value();
  uint32_t length = info[3].As<Napi::Number>().Uint32Value();
  int port = info[4].As<Napi::Number>().Int32Value();
  std::string address = info[5].As<Napi::String>().Utf8Value();
  int error = EINVAL;
  if (static_cast<size_t>(offset) + length <= buf.Length()) {
    error = SendTo6(fd, buf.Data() + offset, length, port, address.c_str());
  }
  return Napi::Number::New(info.Env(), error);
}

// sendQueue(data, queue, count) -> datagrams refused: sends `count` staged IPv4
// datagrams (SEND_INTS int32 each in `queue`, send_ring.h) from their sockets with one
// io_uring submission, writing each one's result (0 or errno) into its entry.
Napi::Value NativeIo::SendQueue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray()) {
    Napi::TypeError::New(env, "sendQueue(data, queue, count)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto data = info[0].As<Napi::Uint8Array>();
  auto queue = info[1].As<Napi::Int32Array>();
  uint32_t count = info[2].As<Napi::Number>().Uint32Value();
  if (static_cast<size_t>(count) * SEND_INTS > queue.ElementLength()) {
    count = static_cast<uint32_t>(queue.ElementLength() / SEND_INTS);
  }
  int32_t* q = queue.Data();
  for (uint32_t i = 0; i < count; i++) {
    const int32_t* e = q + static_cast<size_t>(i) * SEND_INTS;
    if (e[SEND_OFFSET] < 0 || e[SEND_LENGTH] < 0 ||
        static_cast<size_t>(e[SEND_OFFSET]) + e[SEND_LENGTH] > data.ByteLength()) {
      Napi::RangeError::New(env, "sendQueue: datagram outside the data")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  if (pump_ == nullptr || pump_->closing) {
    for (uint32_t i = 0; i < count; i++) q[static_cast<size_t>(i) * SEND_INTS + SEND_RESULT] = EBADF;
    return Napi::Number::New(env, count);
  }
  return Napi::Number::New(env, pump_->sends.Send(data.Data(), q, count));
}

// sendsUseRing() -> whether sendQueue has gone through io_uring (stats, tests).
Napi::Value NativeIo::SendsUseRing(const Napi::CallbackInfo& info) {
  bool ring = pump_ != nullptr && pump_->sends.UsesRing();
  return Napi::Boolean::New(info.Env(), ring);
}

// noSendRing(): sendQueue uses sendto from now on (A/B measurements, tests).
Napi::Value NativeIo::NoSendRing(const Napi::CallbackInfo& info) {
  if (pump_ != nullptr) pump_->sends.Disable();
  return info.Env().Undefined();
}

// noRecvRing(): the event thread reads with recvmmsg only from its next round on.
Napi::Value NativeIo::NoRecvRing(const Napi::CallbackInfo& info) {
  if (pump_ != nullptr) pump_->thread.NoRecvRing();
  return info.Env().Undefined();
}

// recvUsesRing() -> whether the event thread has an io_uring for its reads.
Napi::Value NativeIo::RecvUsesRing(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), pump_ != nullptr && pump_->thread.UsesRecvRing());
}

// noRelaySendRing(): the event thread sends relayed datagrams with sendmsg each.
Napi::Value NativeIo::NoRelaySendRing(const Napi::CallbackInfo& info) {
  if (pump_ != nullptr) pump_->thread.NoRelaySendRing();
  return info.Env().Undefined();
}

// takeRelayCounts(out) -> routes written: per route that counted anything since the
// last take, its source token and COUNT_FIELDS counts (fast_relay.h), as many as `out`
// (Float64Array) holds; the caller calls again while it comes back full.
Napi::Value NativeIo::TakeRelayCounts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || info.Length() < 1 || !info[0].IsTypedArray()) {
    return Napi::Number::New(env, 0);
  }
  auto out = info[0].As<Napi::TypedArrayOf<double>>();
  auto max = static_cast<uint32_t>(out.ElementLength() / (1 + COUNT_FIELDS));
  return Napi::Number::New(env, pump_->thread.TakeCounts(out.Data(), max));
}

// relay(srcToken, dstToken, dstAddr4, dstPort, srcAddr4, srcPort, ptMap, state,
// reception, tap, recorderId, recordSlot, recordLaw) -> bool: the event thread relays
// srcToken's RTP from srcAddr4:srcPort to dstAddr4:dstPort from dstToken's socket
// (fast_relay.h). ptMap: Int16Array(128); state: Float64Array(STATE_COUNT); reception:
// Float64Array(COUNT_FIELDS), its RS_ fields; tap: whether it also copies what it relays
// into the tap (takeTapped); recorderId (0: none): the native recording it places what it
// relays into, as source recordSlot, each payload type as recordLaw (Uint8Array(128),
// RecordLaw) says. Both at once: a recorded source the room's mix hears (the recording
// placed here, the tap taken for the mix).
Napi::Value NativeIo::Relay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || pump_->closing || info.Length() < 9 || !info[6].IsTypedArray() ||
      !info[7].IsTypedArray() || !info[8].IsTypedArray()) {
    return Napi::Boolean::New(env, false);
  }
  auto map = info[6].As<Napi::TypedArrayOf<int16_t>>();
  auto state = info[7].As<Napi::TypedArrayOf<double>>();
  auto reception = info[8].As<Napi::TypedArrayOf<double>>();
  if (map.ElementLength() < 128 || state.ElementLength() < STATE_COUNT ||
      reception.ElementLength() < COUNT_FIELDS) {
    return Napi::Boolean::New(env, false);
  }
  Route route;
  uint32_t src = info[0].As<Napi::Number>().Uint32Value();
  route.dstToken = info[1].As<Napi::Number>().Uint32Value();
  route.dstAddr4 = info[2].As<Napi::Number>().Int32Value();
  route.dstPort = info[3].As<Napi::Number>().Int32Value();
  route.srcAddr4 = info[4].As<Napi::Number>().Int32Value();
  route.srcPort = info[5].As<Napi::Number>().Int32Value();
  std::memcpy(route.ptMap, map.Data(), sizeof route.ptMap);
  route.Load(state.Data());
  route.LoadReception(reception.Data());
  route.tap = info.Length() > 9 && info[9].ToBoolean().Value();
  if (info.Length() > 12 && info[10].IsNumber() && info[11].IsNumber() &&
      info[12].IsTypedArray()) {
    auto law = info[12].As<Napi::TypedArrayOf<uint8_t>>();
    route.recorderId = info[10].As<Napi::Number>().Uint32Value();
    route.recordSlot = info[11].As<Napi::Number>().Int32Value();
    if (route.recorderId != 0) {
      if (law.ElementLength() < 128) return Napi::Boolean::New(env, false);
      for (int pt = 0; pt < 128; pt++) {
        uint8_t v = law.Data()[pt];
        route.recordLaw[pt] = v <= RECORD_JS ? v : static_cast<uint8_t>(RECORD_JS);
      }
    }
  }
  return Napi::Boolean::New(env, pump_->thread.SetRoute(src, route));
}

namespace {
bool Numbers(const Napi::CallbackInfo& info, size_t from, size_t to) {
  if (info.Length() < to) return false;
  for (size_t i = from; i < to; i++) {
    if (!info[i].IsNumber()) return false;
  }
  return true;
}
}  // namespace

// recorderOpen(rate, frameSamples, channels, startMs, seconds) -> id (0: refused): a
// native recording (tap_recorder.h); startMs on the event thread's clock.
Napi::Value NativeIo::RecorderOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || pump_->closing || !Numbers(info, 0, 5)) {
    return Napi::Number::New(env, 0);
  }
  int rate = info[0].As<Napi::Number>().Int32Value();
  int frame = info[1].As<Napi::Number>().Int32Value();
  int channels = info[2].As<Napi::Number>().Int32Value();
  double startMs = info[3].As<Napi::Number>().DoubleValue();
  double seconds = info[4].As<Napi::Number>().DoubleValue();
  if (rate < 8000 || rate > 48000 || frame < 1 || frame > rate ||
      (channels != 1 && channels != 2) || !(seconds >= 0.1 && seconds <= 10) ||
      !std::isfinite(startMs)) {
    return Napi::Number::New(env, 0);
  }
  uint32_t id = pump_->thread.OpenRecorder(rate, frame, channels, startMs, seconds);
  return Napi::Number::New(env, id);
}

// recorderClose(id): forgets the recording (routes placing into it stop placing).
Napi::Value NativeIo::RecorderClose(const Napi::CallbackInfo& info) {
  if (pump_ != nullptr && Numbers(info, 0, 1)) {
    pump_->thread.CloseRecorder(info[0].As<Napi::Number>().Uint32Value());
  }
  return info.Env().Undefined();
}

// recorderTracks(id, trackOfSlot: Int32Array) -> bool.
Napi::Value NativeIo::RecorderTracks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || !Numbers(info, 0, 1) || info.Length() < 2 || !info[1].IsTypedArray()) {
    return Napi::Boolean::New(env, false);
  }
  auto tracks = info[1].As<Napi::TypedArrayOf<int32_t>>();
  return Napi::Boolean::New(
      env, pump_->thread.RecorderTracks(info[0].As<Napi::Number>().Uint32Value(), tracks.Data(),
                                        static_cast<int>(tracks.ElementLength())));
}

// recorderPlaceLaw(id, slot, law, packet: Uint8Array, from, to, arrivalMs) -> bool: the
// G.711 payload packet[from, to) of an RTP packet JavaScript handled (its header, from
// packet[0], gives the SSRC, sequence number and timestamp).
Napi::Value NativeIo::RecorderPlaceLaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || info.Length() < 7 || !info[3].IsTypedArray() ||
      !Numbers(info, 0, 3) || !Numbers(info, 4, 7)) {
    return Napi::Boolean::New(env, false);
  }
  auto packet = info[3].As<Napi::TypedArrayOf<uint8_t>>();
  int64_t from = info[4].As<Napi::Number>().Int64Value();
  int64_t to = info[5].As<Napi::Number>().Int64Value();
  if (from < 12 || to < from || static_cast<size_t>(to) > packet.ElementLength()) {
    return Napi::Boolean::New(env, false);
  }
  const uint8_t* p = packet.Data();
  uint16_t seq = static_cast<uint16_t>((p[2] << 8) | p[3]);
  uint32_t ts = (uint32_t(p[4]) << 24) | (uint32_t(p[5]) << 16) | (uint32_t(p[6]) << 8) | p[7];
  uint32_t ssrc =
      (uint32_t(p[8]) << 24) | (uint32_t(p[9]) << 16) | (uint32_t(p[10]) << 8) | p[11];
  return Napi::Boolean::New(
      env, pump_->thread.RecorderPlaceLaw(
               info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Int32Value(),
               info[2].As<Napi::Number>().Int32Value(), p + from, static_cast<int>(to - from),
               ssrc, seq, ts, info[6].As<Napi::Number>().DoubleValue()));
}

// recorderPlacePcm(id, slot, pcm: Int16Array, count, ssrc, seq, ts, clockRate, arrivalMs)
// -> bool: audio JavaScript decoded, at the recording's rate.
Napi::Value NativeIo::RecorderPlacePcm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || info.Length() < 9 || !info[2].IsTypedArray() ||
      !Numbers(info, 0, 2) || !Numbers(info, 3, 9)) {
    return Napi::Boolean::New(env, false);
  }
  auto pcm = info[2].As<Napi::TypedArrayOf<int16_t>>();
  int64_t count = info[3].As<Napi::Number>().Int64Value();
  double clockRate = info[7].As<Napi::Number>().DoubleValue();
  if (count < 0 || static_cast<size_t>(count) > pcm.ElementLength() || !(clockRate > 0)) {
    return Napi::Boolean::New(env, false);
  }
  return Napi::Boolean::New(
      env, pump_->thread.RecorderPlacePcm(
               info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Int32Value(),
               pcm.Data(), static_cast<int>(count), info[4].As<Napi::Number>().Uint32Value(),
               static_cast<uint16_t>(info[5].As<Napi::Number>().Uint32Value()),
               info[6].As<Napi::Number>().Uint32Value(), clockRate,
               info[8].As<Napi::Number>().DoubleValue()));
}

// recorderTake(id, target, out: Int16Array, at, maxFrames) -> frames: whole frames up to
// sample position `target`, interleaved (or mono) into out[at...].
Napi::Value NativeIo::RecorderTake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || info.Length() < 5 || !info[2].IsTypedArray() ||
      !Numbers(info, 0, 2) || !Numbers(info, 3, 5)) {
    return Napi::Number::New(env, 0);
  }
  auto out = info[2].As<Napi::TypedArrayOf<int16_t>>();
  int64_t at = info[3].As<Napi::Number>().Int64Value();
  double target = info[1].As<Napi::Number>().DoubleValue();
  int64_t maxFrames = info[4].As<Napi::Number>().Int64Value();
  if (at < 0 || maxFrames < 0 || static_cast<size_t>(at) > out.ElementLength() ||
      !std::isfinite(target)) {
    return Napi::Number::New(env, 0);
  }
  // The caller sizes maxFrames to fit: frames of up to 2 channels must lie within `out`.
  return Napi::Number::New(
      env, pump_->thread.RecorderTake(info[0].As<Napi::Number>().Uint32Value(),
                                      static_cast<int64_t>(std::floor(target)), out.Data() + at,
                                      static_cast<uint32_t>(maxFrames),
                                      out.ElementLength() - static_cast<size_t>(at)));
}

// recorderStats(id, out: Float64Array(REC_STAT_COUNT)) -> bool.
Napi::Value NativeIo::RecorderStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || !Numbers(info, 0, 1) || info.Length() < 2 || !info[1].IsTypedArray()) {
    return Napi::Boolean::New(env, false);
  }
  auto out = info[1].As<Napi::TypedArrayOf<double>>();
  if (out.ElementLength() < REC_STAT_COUNT) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(
      env, pump_->thread.RecorderStats(info[0].As<Napi::Number>().Uint32Value(), out.Data()));
}

// takeTapped(out) -> bytes: what tapped routes relayed since the last take (fast_relay.h
// TAP_*), copied into `out` (a Uint8Array of at least tapCapacity bytes), and the tap
// emptied; 0 when there is nothing or `out` is too short.
Napi::Value NativeIo::TakeTapped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || info.Length() < 1 || !info[0].IsTypedArray()) {
    return Napi::Number::New(env, 0);
  }
  auto out = info[0].As<Napi::TypedArrayOf<uint8_t>>();
  auto capacity = static_cast<uint32_t>(out.ElementLength());
  return Napi::Number::New(env, pump_->thread.TakeTapped(out.Data(), capacity));
}

// unrelay(srcToken, state, counts) -> bool: stops relaying srcToken; when it was, its
// final state is written into `state` and what it counted since the last take into
// `counts` (Float64Array(COUNT_FIELDS)).
Napi::Value NativeIo::Unrelay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (pump_ == nullptr || info.Length() < 3 || !info[1].IsTypedArray() ||
      !info[2].IsTypedArray()) {
    return Napi::Boolean::New(env, false);
  }
  auto state = info[1].As<Napi::TypedArrayOf<double>>();
  auto counts = info[2].As<Napi::TypedArrayOf<double>>();
  if (state.ElementLength() < STATE_COUNT || counts.ElementLength() < COUNT_FIELDS) {
    return Napi::Boolean::New(env, false);
  }
  uint32_t src = info[0].As<Napi::Number>().Uint32Value();
  return Napi::Boolean::New(env,
                            pump_->thread.ClearRoute(src, state.Data(), counts.Data()));
}

// ref()/unref(): whether the open sockets keep the event loop alive (as dgram's do).
Napi::Value NativeIo::Ref(const Napi::CallbackInfo& info) {
  if (pump_ != nullptr && !pump_->closing) uv_ref(reinterpret_cast<uv_handle_t*>(&pump_->async));
  return info.Env().Undefined();
}

Napi::Value NativeIo::Unref(const Napi::CallbackInfo& info) {
  if (pump_ != nullptr && !pump_->closing) {
    uv_unref(reinterpret_cast<uv_handle_t*>(&pump_->async));
  }
  return info.Env().Undefined();
}

// close(): joins the thread and closes every socket now; idempotent.
Napi::Value NativeIo::Close(const Napi::CallbackInfo& info) {
  if (pump_ != nullptr) {
    pump_->Close();
    finalCpuMs_ = pump_->thread.CpuMs();
  }
  // Nothing is delivered after close: the async resource ends here rather than at
  // garbage collection (async_hooks, and jest's open-handle report, see it closed).
  if (asyncContext_ != nullptr) {
    napi_async_destroy(info.Env(), asyncContext_);
    asyncContext_ = nullptr;
  }
  return info.Env().Undefined();
}

// cpuMs(): CPU time of the event thread (ms), for the worker's stats.
Napi::Value NativeIo::CpuMs(const Napi::CallbackInfo& info) {
  double ms = pump_ != nullptr ? pump_->thread.CpuMs() : finalCpuMs_;
  return Napi::Number::New(info.Env(), ms);
}

}  // namespace callwatch
