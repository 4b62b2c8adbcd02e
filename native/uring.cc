#include "uring.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace callwatch {

namespace {

void* MapRing(int ring, size_t bytes, off_t offset) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, offset);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

bool Uring::Open(unsigned entries) {
  if (fd_ >= 0) return true;
  io_uring_params params;
  std::memset(&params, 0, sizeof params);
  // One submitting thread, completions run when it enters (no interrupting task work),
  // and a failing entry does not stop the ones after it. Older kernels lack these.
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL;
  int fd = static_cast<int>(syscall(__NR_io_uring_setup, entries, &params));
  if (fd < 0 && errno == EINVAL) {
    std::memset(&params, 0, sizeof params);
    fd = static_cast<int>(syscall(__NR_io_uring_setup, entries, &params));
  }
  if (fd < 0) return false;
  fd_ = fd;
  sqMapBytes_ = params.sq_off.array + params.sq_entries * sizeof(unsigned);
  cqMapBytes_ = params.cq_off.cqes + params.cq_entries * sizeof(io_uring_cqe);
  sqesBytes_ = params.sq_entries * sizeof(io_uring_sqe);
  sqMap_ = MapRing(fd, sqMapBytes_, IORING_OFF_SQ_RING);
  cqMap_ = MapRing(fd, cqMapBytes_, IORING_OFF_CQ_RING);
  sqes_ = static_cast<io_uring_sqe*>(MapRing(fd, sqesBytes_, IORING_OFF_SQES));
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

void Uring::Close() {
  if (sqes_ != nullptr) munmap(sqes_, sqesBytes_);
  if (cqMap_ != nullptr) munmap(cqMap_, cqMapBytes_);
  if (sqMap_ != nullptr) munmap(sqMap_, sqMapBytes_);
  sqes_ = nullptr;
  cqMap_ = sqMap_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void Uring::PublishTail(unsigned tail) { __atomic_store_n(sqTail_, tail, __ATOMIC_RELEASE); }

int Uring::Enter(unsigned submit, unsigned wait) {
  long r = syscall(__NR_io_uring_enter, fd_, submit, wait, IORING_ENTER_GETEVENTS, nullptr, 0);
  return r < 0 ? errno : 0;
}

}  // namespace callwatch
