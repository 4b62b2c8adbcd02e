// A minimal io_uring(7) instance on the raw system calls (no liburing build dependency):
// one thread fills submission entries, submits them with one io_uring_enter(2) and reaps
// every completion before it returns (send_ring.h, recv_ring.h). Nothing stays in flight
// between two batches, so the memory an entry points at only has to outlive its batch.
#pragma once

#include <linux/io_uring.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace callwatch {

class Uring {
 public:
  Uring() = default;
  ~Uring() { Close(); }
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;

  // Creates the ring (`entries` submissions per batch) for one submitting thread.
  // False when the kernel refuses (no io_uring, io_uring_disabled, seccomp).
  bool Open(unsigned entries);
  void Close();
  bool IsOpen() const { return fd_ >= 0; }

  // Submits `n` (<= entries) entries, prepared by `prepare(sqe, i)` for i in 0..n-1
  // (user_data = i is set here), and calls `complete(i, res)` once per entry as it
  // completes. Returns 0, or the errno of a failed io_uring_enter: then the ring is
  // closed and complete() was not called for the entries listed in `done` as false.
  template <typename Prepare, typename Complete>
  int Run(unsigned n, bool* done, Prepare prepare, Complete complete);

 private:
  io_uring_sqe* SqeAt(unsigned index) { return &sqes_[index & sqMask_]; }
  int Enter(unsigned submit, unsigned wait);
  unsigned SqHead() const { return __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE); }
  void PublishTail(unsigned tail);
  template <typename Complete>
  unsigned Reap(unsigned n, bool* done, Complete complete);

  int fd_ = -1;
  void* sqMap_ = nullptr;
  size_t sqMapBytes_ = 0;
  void* cqMap_ = nullptr;
  size_t cqMapBytes_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqesBytes_ = 0;
  unsigned* sqHead_ = nullptr;
  unsigned* sqTail_ = nullptr;
  unsigned sqMask_ = 0;
  unsigned* sqArray_ = nullptr;
  unsigned* cqHead_ = nullptr;
  unsigned* cqTail_ = nullptr;
  unsigned cqMask_ = 0;
  io_uring_cqe* cqes_ = nullptr;
};

template <typename Complete>
unsigned Uring::Reap(unsigned n, bool* done, Complete complete) {
  unsigned reaped = 0;
  unsigned head = *cqHead_;
  unsigned tail = __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE);
  for (; head != tail; head++) {
    const io_uring_cqe& cqe = cqes_[head & cqMask_];
    uint64_t i = cqe.user_data;
    if (i >= n || done[i]) continue;  // cannot happen: every batch is reaped in full
    done[i] = true;
    reaped++;
    complete(static_cast<unsigned>(i), cqe.res);
  }
  __atomic_store_n(cqHead_, head, __ATOMIC_RELEASE);
  return reaped;
}

template <typename Prepare, typename Complete>
int Uring::Run(unsigned n, bool* done, Prepare prepare, Complete complete) {
  unsigned tail = *sqTail_;
  for (unsigned i = 0; i < n; i++) {
    done[i] = false;
    io_uring_sqe* sqe = SqeAt(tail + i);
    prepare(sqe, i);
    sqe->user_data = i;
    sqArray_[(tail + i) & sqMask_] = (tail + i) & sqMask_;
  }
  PublishTail(tail + n);
  unsigned pending = n;
  while (pending > 0) {
    int error = Enter((tail + n) - SqHead(), 1);
    if (error != 0 && error != EINTR && error != EAGAIN && error != EBUSY) {
      Close();
      return error;
    }
    pending -= Reap(n, done, complete);
  }
  return 0;
}

}  // namespace callwatch
