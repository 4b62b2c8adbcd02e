#include "event_thread.h"

#include <cerrno>
#include <cstring>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <future>

#include "recv_batch.h"

#include <ctime>

namespace callwatch {

namespace {
constexpr uint64_t WAKE_KEY = UINT64_MAX;  // the eventfd's epoll key (tokens are 32-bit)
constexpr int MAX_EVENTS = 128;
}  // namespace

EventThread::EventThread(const Arena& arena, Notify notify, void* context)
    : arena_(arena), notify_(notify), context_(context) {}

EventThread::~EventThread() { Stop(); }

int EventThread::Start() {
  // Two halves: JavaScript drains one while the thread reads and relays in the other.
  uint32_t half = arena_.slots / 2;
  for (uint32_t h = 0; h < 2; h++) {
    half_[h] = arena_;
    half_[h].slots = half;
    half_[h].data = arena_.data + static_cast<size_t>(h) * half * arena_.slotBytes;
    half_[h].meta = arena_.meta + static_cast<size_t>(h) * half * META_INTS;
    half_[h].arrival = arena_.arrival + static_cast<size_t>(h) * half;
  }
  relayData_.resize(static_cast<size_t>(arena_.slots) * arena_.slotBytes);
  relayQueue_.resize(static_cast<size_t>(arena_.slots) * SEND_INTS);
  relaySlot_.resize(arena_.slots);
  relayRoute_.resize(arena_.slots);
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) return errno;
  wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_ < 0) return errno;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = WAKE_KEY;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev) != 0) return errno;
  // The thread opens its receive ring itself (the ring takes one submitting thread) and
  // Start waits for that: once the io exists its descriptors are all open, so what a
  // caller counts after creating one does not change under it a moment later.
  std::promise<void> started;
  std::future<void> ready = started.get_future();
  thread_ = std::thread([this, &started] { Run(started); });
  ready.wait();
  return 0;
}

int EventThread::Add(int fd, uint32_t token) {
  std::lock_guard<std::mutex> lock(socketsMutex_);
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: what a round leaves unread shows up again
  ev.data.u64 = token;
  if (stopped_ || epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int error = stopped_ ? EBADF : errno;
    close(fd);
    return error;
  }
  sockets_[token] = fd;
  return 0;
}

void EventThread::Remove(uint32_t token) {
  std::lock_guard<std::mutex> lock(socketsMutex_);
  auto it = sockets_.find(token);
  if (it == sockets_.end()) return;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, it->second, nullptr);
  close(it->second);
  sockets_.erase(it);
  routes_.erase(token);
  // A route sending from this socket stops (its source falls back to JavaScript).
  for (auto r = routes_.begin(); r != routes_.end();) {
    if (r->second.dstToken == token) {
      r = routes_.erase(r);
    } else {
      ++r;
    }
  }
}

bool EventThread::SetRoute(uint32_t token, const Route& route) {
  std::lock_guard<std::mutex> lock(socketsMutex_);
  if (sockets_.count(token) == 0) return false;
  auto dst = sockets_.find(route.dstToken);
  if (dst == sockets_.end()) return false;
  if (Holds(token)) return false;
  TapRecorder* recorder = nullptr;
  if (route.recorderId != 0) {
    // A recording that is gone takes nothing: JavaScript relays, and records or not.
    recorder = RecorderOf(route.recorderId);
    if (recorder == nullptr) return false;
  }
  Route& r = routes_[token];
  r = route;
  r.recorder = recorder;
  r.dstFd = dst->second;
  r.srcToken = token;
  if (r.tap && tap_.empty()) tap_.resize(TAP_CAPACITY);
  return true;
}

TapRecorder* EventThread::RecorderOf(uint32_t id) {
  auto it = recorders_.find(id);
  return it == recorders_.end() ? nullptr : it->second.get();
}

uint32_t EventThread::OpenRecorder(int rate, int frameSamples, int channels, double startMs,
                                   double seconds) {
  // JavaScript thread only: the registry is its alone (no route names the new id yet).
  uint32_t id = nextRecorder_++;
  if (nextRecorder_ == 0) nextRecorder_ = 1;
  recorders_[id] = std::make_unique<TapRecorder>(rate, frameSamples, channels, startMs, seconds);
  return id;
}

void EventThread::CloseRecorder(uint32_t id) {
  std::lock_guard<std::mutex> lock(socketsMutex_);
  if (recorders_.erase(id) == 0) return;
  for (auto& entry : routes_) {
    Route& r = entry.second;
    if (r.recorderId == id) {
      r.recorderId = 0;
      r.recorder = nullptr;
    }
  }
}

bool EventThread::RecorderTracks(uint32_t id, const int32_t* trackOfSlot, int slots) {
  // JavaScript thread only (the registry), the recording under its own mutex.
  TapRecorder* recorder = RecorderOf(id);
  if (recorder == nullptr) return false;
  std::lock_guard<std::mutex> hold(recorder->mutex);
  recorder->SetTracks(trackOfSlot, slots);
  return true;
}

bool EventThread::RecorderPlaceLaw(uint32_t id, int slot, int law, const uint8_t* payload,
                                   int length, uint32_t ssrc, uint16_t seq, uint32_t ts,
                                   double arrivalMs) {
  // JavaScript thread only (the registry), the recording under its own mutex.
  TapRecorder* recorder = RecorderOf(id);
  if (recorder == nullptr) return false;
  const int16_t* table = law == RECORD_ALAW ? AlawDecodeTable() : UlawDecodeTable();
  std::lock_guard<std::mutex> hold(recorder->mutex);
  recorder->PlaceLaw(slot, table, payload, length, ssrc, seq, ts, arrivalMs);
  return true;
}

bool EventThread::RecorderPlacePcm(uint32_t id, int slot, const int16_t* pcm, int count,
                                   uint32_t ssrc, uint16_t seq, uint32_t ts, double clockRate,
                                   double arrivalMs) {
  // JavaScript thread only (the registry), the recording under its own mutex.
  TapRecorder* recorder = RecorderOf(id);
  if (recorder == nullptr) return false;
  std::lock_guard<std::mutex> hold(recorder->mutex);
  recorder->PlacePcm(slot, pcm, count, ssrc, seq, ts, clockRate, arrivalMs);
  return true;
}

uint32_t EventThread::RecorderTake(uint32_t id, int64_t target, int16_t* out,
                                   uint32_t maxFrames, size_t room) {
  // JavaScript thread only (the registry), the recording under its own mutex.
  TapRecorder* recorder = RecorderOf(id);
  if (recorder == nullptr) return 0;
  std::lock_guard<std::mutex> hold(recorder->mutex);
  size_t fit = room / static_cast<size_t>(recorder->FrameValues());
  return recorder->Take(target, out, static_cast<uint32_t>(std::min<size_t>(maxFrames, fit)));
}

bool EventThread::RecorderStats(uint32_t id, double* out) {
  // JavaScript thread only (the registry), the recording under its own mutex.
  TapRecorder* recorder = RecorderOf(id);
  if (recorder == nullptr) return false;
  std::lock_guard<std::mutex> hold(recorder->mutex);
  recorder->Stats(out);
  return true;
}

// Whether the half the thread filled and has not handed over yet holds a datagram of
// `token` for JavaScript (socketsMutex_ held). A route set now would relay the source's
// next datagram at once, ahead of that one, which JavaScript gets only after it.
bool EventThread::Holds(uint32_t token) const {
  const Arena& a = half_[heldHalf_];
  for (uint32_t slot = 0; slot < heldSlots_; slot++) {
    const int32_t* meta = a.meta + static_cast<size_t>(slot) * META_INTS;
    if (static_cast<uint32_t>(meta[META_TOKEN]) == token &&
        (meta[META_FLAGS] & META_FLAG_RELAYED) == 0) {
      return true;
    }
  }
  return false;
}

uint32_t EventThread::TakeTapped(uint8_t* out, uint32_t capacity) {
  std::lock_guard<std::mutex> lock(socketsMutex_);
  uint32_t n = tapUsed_;
  if (n == 0 || capacity < n) return 0;  // JavaScript's buffer is TAP_CAPACITY long
  std::memcpy(out, tap_.data(), n);
  tapUsed_ = 0;
  return n;
}

bool EventThread::ClearRoute(uint32_t token, double* state, double* counts) {
  std::lock_guard<std::mutex> lock(socketsMutex_);
  auto it = routes_.find(token);
  if (it == routes_.end()) return false;
  it->second.Store(state);
  it->second.TakeCounts(counts);
  routes_.erase(it);
  return true;
}

uint32_t EventThread::TakeCounts(double* out, uint32_t max) {
  std::lock_guard<std::mutex> lock(socketsMutex_);
  uint32_t n = 0;
  for (auto& entry : routes_) {
    if (n == max) break;
    Route& route = entry.second;
    if (route.packets == 0 && route.sendFailed == 0) continue;
    double* row = out + static_cast<size_t>(n) * (1 + COUNT_FIELDS);
    row[0] = entry.first;
    route.TakeCounts(row + 1);
    n++;
  }
  return n;
}

void EventThread::RelayRun(Route& route, uint32_t first, uint32_t end) {
  const Arena& a = half_[cur_];  // the half the thread fills
  for (uint32_t slot = first; slot < end; slot++) {
    // Once one datagram is JavaScript's, so is every later one (Route::yielded).
    if (route.yielded) return;
    int32_t* meta = a.meta + static_cast<size_t>(slot) * META_INTS;
    const uint8_t* data = a.data + static_cast<size_t>(slot) * a.slotBytes;
    uint32_t length = static_cast<uint32_t>(meta[META_LENGTH]);
    uint8_t* out = relayData_.data() + static_cast<size_t>(slot) * a.slotBytes;
    // IPv6, truncated or an error is JavaScript's; so is a tapped packet the tap has no
    // room for (JavaScript records it itself).
    uint32_t tapBytes = route.tap ? TapEntryBytes(length) : 0;
    // A native recording's payload type: one it cannot decode is JavaScript's, as is a
    // tapped packet the tap has no room for.
    uint8_t law = RECORD_NONE;
    if (route.recorder != nullptr && length >= 12) law = route.recordLaw[data[1] & 0x7f];
    if (meta[META_FLAGS] != 0 || tapBytes > TAP_CAPACITY - tapUsed_ || law == RECORD_JS ||
        !PrepareRelay(route, data, length, meta[META_ADDR], meta[META_PORT], a.arrival[slot],
                      out)) {
      route.yielded = true;
      return;
    }
    if (law != RECORD_NONE) Record(route, law, data, length, a.arrival[slot]);
    if (tapBytes != 0) {
      uint8_t* entry = tap_.data() + tapUsed_;
      uint32_t header[2] = {route.srcToken, length};
      std::memcpy(entry, header, sizeof header);
      std::memcpy(entry + 8, &a.arrival[slot], sizeof(double));
      std::memcpy(entry + TAP_HEADER_BYTES, data, length);
      tapUsed_ += tapBytes;
    }
    meta[META_FLAGS] = META_FLAG_RELAYED;
    meta[META_RELAY_TOKEN] = static_cast<int32_t>(route.dstToken);
    int32_t* q = relayQueue_.data() + static_cast<size_t>(relayCount_) * SEND_INTS;
    q[SEND_FD] = route.dstFd;
    q[SEND_OFFSET] = static_cast<int32_t>(static_cast<size_t>(slot) * a.slotBytes);
    q[SEND_LENGTH] = static_cast<int32_t>(length);
    q[SEND_PORT] = route.dstPort;
    q[SEND_ADDR] = route.dstAddr4;
    q[SEND_RESULT] = 0;
    relaySlot_[relayCount_] = slot;
    relayRoute_[relayCount_++] = &route;
  }
}

// Places a relayed datagram's G.711 payload into the route's recording (socketsMutex_
// held), as received: `data` is left as it came (the relay rewrote a copy).
void EventThread::Record(Route& route, uint8_t law, const uint8_t* data, uint32_t length,
                         double arrivalMs) {
  uint32_t offset = 0;
  int end = RtpPayloadEnd(data, length, &offset);
  if (end < 0) return;
  uint32_t seq = (uint32_t(data[2]) << 8) | data[3];
  uint32_t ts = (uint32_t(data[4]) << 24) | (uint32_t(data[5]) << 16) |
                (uint32_t(data[6]) << 8) | data[7];
  uint32_t ssrc = (uint32_t(data[8]) << 24) | (uint32_t(data[9]) << 16) |
                  (uint32_t(data[10]) << 8) | data[11];
  const int16_t* table = law == RECORD_ALAW ? AlawDecodeTable() : UlawDecodeTable();
  std::lock_guard<std::mutex> hold(route.recorder->mutex);
  route.recorder->PlaceLaw(route.recordSlot, table, data + offset,
                           end - static_cast<int>(offset), ssrc, static_cast<uint16_t>(seq),
                           ts, arrivalMs);
}

// Sends the round's relayed datagrams (socketsMutex_ held: no route's socket closes
// meanwhile) and marks the ones the kernel refused.
void EventThread::SendRelayed() {
  const Arena& a = half_[cur_];  // the half the thread fills
  uint32_t n = relayCount_;
  if (n == 0) return;
  relayCount_ = 0;
  if (!useRelaySendRing_.load() && relaySends_.UsesRing()) relaySends_.Disable();
  if (relaySends_.Send(relayData_.data(), relayQueue_.data(), n) == 0) return;
  for (uint32_t i = 0; i < n; i++) {
    if (relayQueue_[static_cast<size_t>(i) * SEND_INTS + SEND_RESULT] == 0) continue;
    a.meta[static_cast<size_t>(relaySlot_[i]) * META_INTS + META_FLAGS] |=
        META_FLAG_SEND_FAILED;
    relayRoute_[i]->sendFailed++;
  }
}

uint32_t EventThread::TakeReady(uint32_t* first) {
  std::lock_guard<std::mutex> lock(handMutex_);
  *first = readyFirst_;
  return ready_;
}

void EventThread::Release() {
  {
    std::lock_guard<std::mutex> lock(handMutex_);
    ready_ = 0;
  }
  handCv_.notify_one();
}

void EventThread::Stop() {
  if (stopped_) return;
  stop_.store(true);
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t ignored = write(wake_, &one, sizeof one);
    (void)ignored;
    {
      std::lock_guard<std::mutex> lock(handMutex_);  // no lost wake-up in Run's wait
    }
    handCv_.notify_all();
    thread_.join();
  }
  std::lock_guard<std::mutex> lock(socketsMutex_);
  stopped_ = true;
  for (auto& entry : sockets_) close(entry.second);
  sockets_.clear();
  if (epoll_ >= 0) close(epoll_);
  if (wake_ >= 0) close(wake_);
  epoll_ = wake_ = -1;
}

// Relays every slot of first..end-1 whose socket has a route (socketsMutex_ held).
void EventThread::RelaySlots(uint32_t first, uint32_t end) {
  const Arena& a = half_[cur_];  // the half the thread fills
  for (uint32_t slot = first; slot < end; slot++) {
    auto token = static_cast<uint32_t>(a.meta[static_cast<size_t>(slot) * META_INTS + META_TOKEN]);
    auto route = routes_.find(token);
    if (route != routes_.end()) RelayRun(route->second, slot, slot + 1);
  }
}

// One round: reads the ready sockets into the arena (ReadSockets), relays what has a
// route, sends the relayed datagrams, and says whether any slot of the round is for
// JavaScript (`forJs`: one the relay did not carry). Returns how many slots it filled.
uint32_t EventThread::ReadRound(const epoll_event* events, int count, bool* forJs) {
  const Arena& a = half_[cur_];  // the half the thread fills
  std::lock_guard<std::mutex> lock(socketsMutex_);
  uint32_t filled = ReadSockets(events, count, 0);
  SendRelayed();
  for (uint32_t slot = 0; slot < filled && !*forJs; slot++) {
    if ((a.meta[static_cast<size_t>(slot) * META_INTS + META_FLAGS] & META_FLAG_RELAYED) == 0) {
      *forJs = true;
    }
  }
  // Held until HandOver gives it to JavaScript (SetRoute looks there: Holds).
  heldHalf_ = cur_;
  heldSlots_ = *forJs ? filled : 0;
  return filled;
}

// One pass over the ready sockets (socketsMutex_ held). Two or more: up to
// RecvRing::MAX_PER_SOCKET datagrams from each with one io_uring submission
// (RecvRing). Else, or without io_uring: one recvmmsg per socket, at most
// MAX_PER_READ slots each, so a flood on one port leaves room for the others. Either
// way level-triggered epoll reports what a round left unread.
uint32_t EventThread::ReadSockets(const epoll_event* events, int count, uint32_t first) {
  const Arena& a = half_[cur_];  // the half the thread fills
  if (recv_.IsOpen() && !useRecvRing_.load()) {
    recv_.Close();
    ringOpen_.store(false);
  }
  if (recv_.IsOpen()) {
    uint32_t n = 0;
    uint32_t free = a.slots - first;
    uint32_t room = free < MAX_EVENTS ? free : MAX_EVENTS;
    for (int i = 0; i < count && n < room; i++) {
      if (events[i].data.u64 == WAKE_KEY) continue;
      uint32_t token = static_cast<uint32_t>(events[i].data.u64);
      auto it = sockets_.find(token);
      if (it == sockets_.end()) continue;
      readyList_[n++] = RecvRing::Ready{it->second, token};
    }
    if (n >= 2) {
      int read = recv_.Read(readyList_, n, a, first);
      if (read >= 0) {
        if (read > 0 && !routes_.empty()) RelaySlots(first, first + static_cast<uint32_t>(read));
        return static_cast<uint32_t>(read);
      }
      ringOpen_.store(false);  // the ring failed and closed itself: recvmmsg from now on
    }
  }
  uint32_t filled = first;
  for (int i = 0; i < count && filled < a.slots; i++) {
    if (events[i].data.u64 == WAKE_KEY) continue;  // only Stop writes it
    uint32_t token = static_cast<uint32_t>(events[i].data.u64);
    auto it = sockets_.find(token);
    if (it == sockets_.end()) continue;  // removed after epoll_wait returned
    uint32_t read = ReadBatch(it->second, token, a, filled, a.slots - filled);
    if (read > 0 && !routes_.empty()) {
      auto route = routes_.find(token);
      if (route != routes_.end()) RelayRun(route->second, filled, filled + read);
    }
    filled += read;
  }
  return filled - first;
}

// Gives the current half's slots 0..filled-1 to JavaScript, once it has drained the other
// half (handed over before), and goes on in the other half.
void EventThread::HandOver(uint32_t filled) {
  {
    std::unique_lock<std::mutex> lock(handMutex_);
    handCv_.wait(lock, [this] { return ready_ == 0 || stop_.load(); });
    if (stop_.load()) return;
    ready_ = filled;
    readyFirst_ = cur_ * half_[0].slots;
  }
  notify_(context_);
  {
    // Handed over: JavaScript gets these slots before anything read from now on.
    std::lock_guard<std::mutex> lock(socketsMutex_);
    heldSlots_ = 0;
  }
  cur_ ^= 1;
}

double EventThread::CpuMs() {
  std::lock_guard<std::mutex> lock(cpuMutex_);
  if (exited_ || !thread_.joinable()) return finalCpuMs_;
  clockid_t clock;
  timespec ts;
  if (pthread_getcpuclockid(thread_.native_handle(), &clock) != 0) return finalCpuMs_;
  if (clock_gettime(clock, &ts) != 0) return finalCpuMs_;
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void EventThread::Run(std::promise<void>& started) {
  pthread_setname_np(pthread_self(), "callwatch-io");  // visible in top -H, /proc/*/task
  if (useRecvRing_.load() && recv_.Open()) ringOpen_.store(true);
  started.set_value();  // `started` lives on Start's stack: not touched after this
  epoll_event events[MAX_EVENTS];
  while (!stop_.load()) {
    int count = epoll_wait(epoll_, events, MAX_EVENTS, -1);
    if (count < 0) {
      if (errno == EINTR) continue;
      break;
    }
    bool forJs = false;
    uint32_t filled = ReadRound(events, count, &forJs);
    if (stop_.load()) break;
    // A round the relay carried in full needs nothing more: its counts are in the
    // routes, and the next round reads into the same slots.
    if (filled == 0 || !forJs) continue;
    HandOver(filled);
  }
  relaySends_.Close();
  recv_.Close();
  ringOpen_.store(false);
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  std::lock_guard<std::mutex> lock(cpuMutex_);
  finalCpuMs_ = static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  exited_ = true;
}

}  // namespace callwatch
