// Bounds the log lines one kind of event may write, for events a peer can
// cause at will (authentication failures): a flood must not fill the disk,
// and must not vanish either. In each window the first `burst` events are
// logged; the rest are only counted, and the count is reported once the
// window has ended. A flood therefore writes at most burst + 1 lines a
// window. The caller passes the clock, so tests need no sleeps.
#pragma once

#include <cstdint>
#include <mutex>

namespace switchboard::base {

class LogThrottle {
 public:
  LogThrottle(std::uint32_t burst, std::uint64_t window_ms) : burst_(burst), window_ms_(window_ms) {}

  // True: log this event. False: it was counted for take_suppressed. A
  // window starts with the first event after the previous one ended.
  bool admit(std::uint64_t now_ms);

  // The events counted in a window that has ended, once (0 while the window
  // is still open, or when none were). Callers ask before admit(), so that
  // the summary comes before the lines of the next window, and on a timer,
  // so that it comes even when the flood has stopped.
  std::uint64_t take_suppressed(std::uint64_t now_ms);

  std::uint64_t window_ms() const { return window_ms_; }

 private:
  const std::uint32_t burst_;
  const std::uint64_t window_ms_;
  // Any thread: the events come from every worker.
  std::mutex mutex_;
  bool window_open_ = false;
  std::uint64_t window_start_ms_ = 0;
  std::uint32_t logged_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace switchboard::base
