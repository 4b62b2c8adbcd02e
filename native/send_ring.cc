#include "send_ring.h"

#include <cerrno>
#include <cstring>

#include "udp_socket.h"

namespace callwatch {

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

// n <= ENTRIES datagrams: one entry each, submitted together; returns once every one
// has completed (a MSG_DONTWAIT send completes inside the submission). If the ring
// fails, the datagrams it did not report count as failed and later sends use sendto.
uint32_t SendRing::SendChunk(const uint8_t* data, int32_t* queue, uint32_t n) {
  uint32_t failed = 0;
  auto prepare = [&](io_uring_sqe* sqe, unsigned i) {
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
    std::memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_SENDMSG;
    sqe->fd = q[SEND_FD];
    sqe->addr = reinterpret_cast<uint64_t>(&msgs_[i]);
    sqe->len = 1;
    sqe->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
  };
  auto complete = [&](unsigned i, int res) {
    queue[static_cast<size_t>(i) * SEND_INTS + SEND_RESULT] = res < 0 ? -res : 0;
    if (res < 0) failed++;
  };
  int error = ring_.Run(n, done_, prepare, complete);
  if (error != 0) {
    tried_ = true;
    for (uint32_t i = 0; i < n; i++) {
      if (done_[i]) continue;
      queue[static_cast<size_t>(i) * SEND_INTS + SEND_RESULT] = error;
      failed++;
    }
  }
  return failed;
}

uint32_t SendRing::Send(const uint8_t* data, int32_t* queue, uint32_t count) {
  if (!tried_) {
    tried_ = true;
    ring_.Open(ENTRIES);
  }
  uint32_t failed = 0;
  for (uint32_t base = 0; base < count; base += ENTRIES) {
    uint32_t n = count - base < ENTRIES ? count - base : ENTRIES;
    int32_t* q = queue + static_cast<size_t>(base) * SEND_INTS;
    failed += ring_.IsOpen() ? SendChunk(data, q, n) : SendEach(data, q, n);
  }
  return failed;
}

}  // namespace callwatch
