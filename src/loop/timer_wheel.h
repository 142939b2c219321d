// Timers without a syscall per timer: a hashed timing wheel (Varghese &
// Lauck) with intrusive nodes. Arming, re-arming and cancelling are O(1)
// list operations; the loop advances the wheel once per iteration and only
// asks epoll for a timeout while at least one timer is armed.
//
// Threading: a wheel belongs to one loop thread; nothing here is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace switchboard::loop {

class TimerWheel;

// An intrusive timer node. The owner embeds it (no allocation per timer) and
// must keep it alive while armed; the destructor cancels it.
class Timer {
 public:
  using Callback = void (*)(void* context);

  Timer(Callback callback, void* context) : callback_(callback), context_(context) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool armed() const { return wheel_ != nullptr; }
  void cancel();

 private:
  friend class TimerWheel;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  TimerWheel* wheel_ = nullptr;
  std::uint64_t due_tick_ = 0;
  Callback callback_;
  void* context_;
};

class TimerWheel {
 public:
  // tick_ms: the resolution; a timer fires within one tick after its due time.
  TimerWheel(std::uint64_t now_ms, std::uint64_t tick_ms = 25, std::size_t slots = 4096);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms (or re-arms) timer to fire delay_ms after now_ms.
  void arm(Timer& timer, std::uint64_t now_ms, std::uint64_t delay_ms);

  // Fires every timer due at or before now_ms, in no particular order within
  // a tick. A callback may arm or cancel any timer, including its own.
  void advance(std::uint64_t now_ms);

  // Milliseconds until the next tick boundary while timers are armed, -1
  // (wait forever) when none is.
  int poll_timeout_ms(std::uint64_t now_ms) const;

  std::size_t armed_count() const { return armed_; }

 private:
  friend class Timer;
  static constexpr std::uint64_t kFiringTick = ~std::uint64_t{0};

  void unlink(Timer& timer);
  static void push_front(Timer*& head, Timer& timer);
  Timer*& head_of(Timer& timer);

  std::uint64_t tick_ms_;
  std::uint64_t current_tick_;  // every tick up to this one has been processed
  std::vector<Timer*> slots_;   // heads of doubly linked lists
  Timer* firing_ = nullptr;     // due timers of the tick being processed
  std::size_t armed_ = 0;
};

}  // namespace switchboard::loop
