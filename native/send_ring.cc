#include "send_ring.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "udp_socket.h"

namespace callwatch {

namespace {

int RingSetup(unsigned entries, io_uring_params* params) {
  return static_cast<int>(syscall(__NR_io_uring_setup, entries, params));
}

int RingEnter(int ring, unsigned submit, unsigned complete, unsigned flags) {
  return static_cast<int>(syscall(__NR_io_uring_enter, ring, submit, complete, flags, nullptr, 0));
}

void* MapRing(int ring, size_t bytes, off_t offset) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, offset);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

bool SendRing::Setup() {
  tried_ = true;
  io_uring_params params;
  std::memset(&params, 0, sizeof params);
  // One submitting thread, completions run when it enters (no interrupting task work),
  // and a failing SQE does not stop the ones after it. Older kernels lack these flags.
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL;
  int ring = RingSetup(ENTRIES, &params);
  if (ring < 0 && errno == EINVAL) {
    std::memset(&params, 0, sizeof params);
    ring = RingSetup(ENTRIES, &params);
  }
  if (ring < 0) return false;
  ring_ = ring;
  sqMapBytes_ = params.sq_off.array + params.sq_entries * sizeof(unsigned);
  cqMapBytes_ = params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe);
  sqesBytes_ = params.sq_entries * sizeof(io_uring_sqe);
  sqMap_ = MapRing(ring, sqMapBytes_, IORING_OFF_SQ_RING);
  cqMap_ = MapRing(ring, cqMapBytes_, IORING_OFF_CQ_RING);
  sqes_ = static_cast<io_uring_sqe*>(MapRing(ring, sqesBytes_, IORING_OFF_SQES));
  if (sqMap_ == nullptr || cqMap_ == nullptr || sqes_ == nullptr) {
    Close();
    return false;
  }
  auto* sq = static_cast<uint8_t*>(sqMap_);
  auto* cq = static_cast<uint8_t*>(cqMap_);
  sqHead_ = reinterpret_cast<unsigned*>(sq + params.sq_off.head);
  sqTail_ = reinterpret_cast<unsigned*>(sq + params.sq_off.tail);
  sqMask_ = *reinterpret_cast<unsigned*>(sq + params.sq_off.ring_mask);
  sqArray_ = reinterpret_cast<unsigned*>(sq + params.sq_off.array);
  cqHead_ = reinterpret_cast<unsigned*>(cq + params.cq_off.head);
  cqTail_ = reinterpret_cast<unsigned*>(cq + params.cq_off.tail);
  cqMask_ = *reinterpret_cast<unsigned*>(cq + params.cq_off.ring_mask);
  cqes_ = reinterpret_cast<io_uring_cqe*>(cq + params.cq_off.cqes);
  return true;
}

void SendRing::Close() {
  if (sqes_ != nullptr) munmap(sqes_, sqesBytes_);
  if (cqMap_ != nullptr) munmap(cqMap_, cqMapBytes_);
  if (sqMap_ != nullptr) munmap(sqMap_, sqMapBytes_);
  sqes_ = nullptr;
  cqMap_ = sqMap_ = nullptr;
  if (ring_ >= 0) close(ring_);
  ring_ = -1;
  tried_ = true;  // a closed ring is not set up again
}

uint32_t SendRing::SendEach(const uint8_t* data, int32_t* queue, uint32_t n) {
  uint32_t failed = 0;
  for (uint32_t i = 0; i < n; i++) {
    int32_t* q = queue + static_cast<size_t>(i) * SEND_INTS;
    int error = SendTo4(q[SEND_FD], data + q[SEND_OFFSET], static_cast<size_t>(q[SEND_LENGTH]),
                        q[SEND_PORT], q[SEND_ADDR]);
    q[SEND_RESULT] = error;
    if (error != 0) failed++;
  }
  return failed;
}

// n <= ENTRIES datagrams: one SQE each, submitted together; returns once every one has
// completed (a MSG_DONTWAIT send completes inside the submission).
uint32_t SendRing::SendChunk(const uint8_t* data, int32_t* queue, uint32_t n) {
  unsigned tail = *sqTail_;
  for (uint32_t i = 0; i < n; i++) {
    const int32_t* q = queue + static_cast<size_t>(i) * SEND_INTS;
    iovs_[i].iov_base = const_cast<uint8_t*>(data) + q[SEND_OFFSET];
    iovs_[i].iov_len = static_cast<size_t>(q[SEND_LENGTH]);
    std::memset(&to_[i], 0, sizeof to_[i]);
    to_[i].sin_family = AF_INET;
    to_[i].sin_port = htons(static_cast<uint16_t>(q[SEND_PORT]));
    std::memcpy(&to_[i].sin_addr, &q[SEND_ADDR], 4);
    std::memset(&msgs_[i], 0, sizeof msgs_[i]);
    msgs_[i].msg_name = &to_[i];
    msgs_[i].msg_namelen = sizeof to_[i];
    msgs_[i].msg_iov = &iovs_[i];
    msgs_[i].msg_iovlen = 1;
    unsigned index = (tail + i) & sqMask_;
    io_uring_sqe* sqe = &sqes_[index];
    std::memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_SENDMSG;
    sqe->fd = q[SEND_FD];
    sqe->addr = reinterpret_cast<uint64_t>(&msgs_[i]);
    sqe->len = 1;
    sqe->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
    sqe->user_data = i;
    sqArray_[index] = index;
  }
  __atomic_store_n(sqTail_, tail + n, __ATOMIC_RELEASE);

  uint32_t pending = n;
  uint32_t failed = 0;
  bool done[ENTRIES] = {};
  while (pending > 0) {
    unsigned unsubmitted = (tail + n) - __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE);
    int entered = RingEnter(ring_, unsubmitted, 1, IORING_ENTER_GETEVENTS);
    if (entered < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY) {
      // The ring failed. What it has not taken goes out with sendto; what it took and
      // never completed counts as failed. Later sends do not use it.
      unsigned taken = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE) - tail;
      int error = errno;
      for (uint32_t i = 0; i < n; i++) {
        if (done[i]) continue;
        int32_t* q = queue + static_cast<size_t>(i) * SEND_INTS;
        if (i < taken) {
          q[SEND_RESULT] = error;
          failed++;
        } else {
          failed += SendEach(data, q, 1);
        }
      }
      Close();
      return failed;
    }
    unsigned head = *cqHead_;
    unsigned ctail = __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE);
    for (; head != ctail; head++) {
      const io_uring_cqe& cqe = cqes_[head & cqMask_];
      uint64_t i = cqe.user_data;
      if (i >= n || done[i]) continue;  // cannot happen: every chunk is reaped in full
      done[i] = true;
      pending--;
      int32_t* q = queue + static_cast<size_t>(i) * SEND_INTS;
      q[SEND_RESULT] = cqe.res < 0 ? -cqe.res : 0;
      if (cqe.res < 0) failed++;
    }
    __atomic_store_n(cqHead_, head, __ATOMIC_RELEASE);
  }
  return failed;
}

uint32_t SendRing::Send(const uint8_t* data, int32_t* queue, uint32_t count) {
  if (!tried_) Setup();
  uint32_t failed = 0;
  for (uint32_t base = 0; base < count; base += ENTRIES) {
    uint32_t n = count - base < ENTRIES ? count - base : ENTRIES;
    int32_t* q = queue + static_cast<size_t>(base) * SEND_INTS;
    failed += ring_ >= 0 ? SendChunk(data, q, n) : SendEach(data, q, n);
  }
  return failed;
}

}  // namespace callwatch
