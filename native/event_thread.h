// The io's event thread: epoll over every socket of one NativeIo, recvmmsg batches
// into the receive arena, then one wake-up of the JavaScript thread per batch.
//
// Hand-over: the arena is two halves. The thread fills slots 0..n-1 of its half,
// publishes them (TakeReady: the half's first slot and n), calls `notify`
// (uv_async_send: libuv coalesces wake-ups) and goes on reading into the other half
// while JavaScript drains this one (Release). It waits for JavaScript only when it has
// the other half to hand over too: then new datagrams wait in the sockets' kernel
// buffers, so the next round reads them in bigger batches when JavaScript is busy.
//
// A relayed datagram stays in the event thread: the route rewrites it into a staging
// slot, counts it (Route::TakeCounts hands JavaScript the sums and the source's
// reception statistics when it asks, fast_relay.h), and the round's relayed datagrams
// leave together with one io_uring submission (SendRing; sendmsg each without
// io_uring). A round the relay carried in full wakes nobody; a round with any other
// datagram is handed over whole, and JavaScript skips the relayed slots
// (docs/architecture.md §3.2.1). A tapped route also copies what it relays into the
// tap, which JavaScript takes for the recording at its sweep and for the room's mix
// before each frame (TakeTapped).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <mutex>
#include <thread>
#include <memory>
#include <unordered_map>

#include <vector>

#include "arena.h"
#include "fast_relay.h"
#include "recv_batch.h"
#include "send_ring.h"
#include "tap_recorder.h"

namespace callwatch {

class EventThread {
 public:
  using Notify = void (*)(void* context);

  EventThread(const Arena& arena, Notify notify, void* context);
  ~EventThread();
  EventThread(const EventThread&) = delete;
  EventThread& operator=(const EventThread&) = delete;

  // Creates the epoll set and the wake-up eventfd, starts the thread. 0 or an errno.
  int Start();
  // Watches `fd` under `token` (the thread owns the fd from now on). 0 or an errno
  // (then the fd is closed).
  int Add(int fd, uint32_t token);
  // Stops watching `token` and closes its fd. Safe while the thread reads.
  void Remove(uint32_t token);
  // Relays the RTP datagrams of `token` natively along `route` (replacing its route).
  // False when `token` or the route's destination is not open, or when a datagram of
  // `token` the thread read is still on its way to JavaScript (Holds): JavaScript asks
  // again once it has it.
  bool SetRoute(uint32_t token, const Route& route);
  // Stops relaying `token`; copies the route's state into `state` (STATE_COUNT doubles)
  // and what it counted since the last take into `counts` (COUNT_FIELDS doubles), and
  // returns true when it had one.
  bool ClearRoute(uint32_t token, double* state, double* counts);
  // Writes, for up to `max` routes that counted anything since the last take, the source
  // token and its counts (1 + COUNT_FIELDS doubles per route) into `out`, and starts
  // them from zero. Returns how many routes it wrote.
  uint32_t TakeCounts(double* out, uint32_t max);
  // Copies what tapped routes relayed since the last take (whole entries, fast_relay.h
  // TAP_*) into `out` (at least TAP_CAPACITY bytes) and empties the tap. Returns the
  // bytes written.
  uint32_t TakeTapped(uint8_t* out, uint32_t capacity);
  // Native recordings (tap_recorder.h), by id: a route names one to place what it relays
  // (Route::recorderId), JavaScript places what it handles itself and takes the frames.
  // JavaScript thread only (the registry is its alone); a recording's contents are
  // guarded by its own mutex, which the thread takes per datagram it places, so
  // JavaScript never waits for a whole round. CloseRecorder also takes socketsMutex_:
  // no round is placing into the recording it deletes.
  uint32_t OpenRecorder(int rate, int frameSamples, int channels, double startMs,
                        double seconds);
  // Forgets recorder `id`; a route placing into it goes on relaying without it.
  void CloseRecorder(uint32_t id);
  bool RecorderTracks(uint32_t id, const int32_t* trackOfSlot, int slots);
  bool RecorderPlaceLaw(uint32_t id, int slot, int law, const uint8_t* payload, int length,
                        uint32_t ssrc, uint16_t seq, uint32_t ts, double arrivalMs);
  bool RecorderPlacePcm(uint32_t id, int slot, const int16_t* pcm, int count, uint32_t ssrc,
                        uint16_t seq, uint32_t ts, double clockRate, double arrivalMs);
  // Frames up to `target` into out[0, room) (at most maxFrames): TapRecorder::Take.
  uint32_t RecorderTake(uint32_t id, int64_t target, int16_t* out, uint32_t maxFrames,
                        size_t room);
  bool RecorderStats(uint32_t id, double* out);
  // JavaScript thread: how many slots the thread has handed over (0: none yet), from
  // slot `*first` on.
  uint32_t TakeReady(uint32_t* first);
  // JavaScript thread: the slots handed over are drained; the thread may fill them again.
  void Release();
  // Wakes and joins the thread, closes every socket and the epoll set. Idempotent.
  void Stop();
  // CPU time the thread has used, in ms (its final figure once it has exited).
  double CpuMs();
  // Reads with one recvmmsg per socket from now on, never through io_uring (A/B
  // measurements, tests).
  void NoRecvRing() { useRecvRing_.store(false); }
  // Whether rounds read through io_uring (the ring is open and not switched off).
  bool UsesRecvRing() const { return ringOpen_.load() && useRecvRing_.load(); }
  // Relayed datagrams go out with one sendmsg each from now on (A/B measurements, tests).
  void NoRelaySendRing() { useRelaySendRing_.store(false); }

 private:
  void Run(std::promise<void>& started);
  uint32_t ReadRound(const epoll_event* events, int count, bool* forJs);
  uint32_t ReadSockets(const epoll_event* events, int count, uint32_t first);
  void RelaySlots(uint32_t first, uint32_t end);
  void RelayRun(Route& route, uint32_t first, uint32_t end);
  void SendRelayed();
  void Record(Route& route, uint8_t law, const uint8_t* data, uint32_t length, double arrivalMs);
  void HandOver(uint32_t filled);
  bool Holds(uint32_t token) const;
  TapRecorder* RecorderOf(uint32_t id);

  Arena arena_;
  Arena half_[2];     // the arena's two halves (Start)
  uint32_t cur_ = 0;  // the half the thread fills (event thread only)
  Notify notify_;
  void* context_;
  int epoll_ = -1;
  int wake_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> useRecvRing_{true};
  std::atomic<bool> ringOpen_{false};
  std::atomic<bool> useRelaySendRing_{true};
  RecvRing recv_;  // the event thread's own
  RecvRing::Ready readyList_[RecvRing::ENTRIES];
  // The round's relayed datagrams (event thread only): rewritten copies in the staging
  // slot of their arena slot, SEND_INTS entries (send_ring.h), their arena slots and
  // routes (valid for the round: socketsMutex_ is held).
  SendRing relaySends_;
  std::vector<uint8_t> relayData_;
  std::vector<int32_t> relayQueue_;
  std::vector<uint32_t> relaySlot_;
  std::vector<Route*> relayRoute_;
  uint32_t relayCount_ = 0;
  bool stopped_ = false;

  std::mutex socketsMutex_;  // held while the thread reads, and by Add/Remove
  std::unordered_map<uint32_t, int> sockets_;
  std::unordered_map<uint32_t, Route> routes_;  // by source token, under socketsMutex_
  // The half the last round filled, while it waits for HandOver (under socketsMutex_):
  // its first heldSlots_ slots, 0 when it holds nothing for JavaScript or was handed over.
  uint32_t heldHalf_ = 0;
  uint32_t heldSlots_ = 0;
  // Tapped routes' datagrams since JavaScript last took them (under socketsMutex_;
  // reserved on the first tapped route).
  std::vector<uint8_t> tap_;
  uint32_t tapUsed_ = 0;
  // Native recordings by id (JavaScript thread only; see OpenRecorder).
  std::unordered_map<uint32_t, std::unique_ptr<TapRecorder>> recorders_;
  uint32_t nextRecorder_ = 1;

  std::mutex cpuMutex_;  // the thread's exit vs CpuMs reading its clock
  bool exited_ = false;
  double finalCpuMs_ = 0;

  std::mutex handMutex_;  // guards ready_: who owns the arena
  std::condition_variable handCv_;
  uint32_t ready_ = 0;
  uint32_t readyFirst_ = 0;
};

}  // namespace callwatch
