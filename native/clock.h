// Monotonic time in milliseconds: the clock libuv's uv_hrtime (and so Node's
// performance.now()) reads, so JavaScript can convert with one fixed offset.
#pragma once

#include <time.h>

namespace callwatch {

inline double MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

inline double RealtimeMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace callwatch
