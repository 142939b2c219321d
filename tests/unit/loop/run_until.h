// run_until: runs a test's own EventLoop on the calling thread until a
// condition holds or a deadline passes, checking it every timer tick (25 ms).
// Bounds every test that drives a loop itself; the default timeout is sized
// for a loaded 2-core machine (it ends as soon as the condition holds).
#pragma once

#include <cstdint>
#include <functional>

#include "base/clock.h"
#include "loop/event_loop.h"
#include "loop/timer_wheel.h"

namespace switchboard::loop::testing {

// Runs loop until done() or timeout_ms; returns done()'s last answer.
inline bool run_until(EventLoop& loop, const std::function<bool()>& done, std::uint64_t timeout_ms = 10'000) {
  struct Poll {
    EventLoop* loop;
    const std::function<bool()>* done;
    std::uint64_t deadline;
    Timer timer{&Poll::fire, this};
    static void fire(void* self) {
      auto& poll = *static_cast<Poll*>(self);
      if ((*poll.done)() || base::monotonic_ms() >= poll.deadline) {
        poll.loop->quit();
        return;
      }
      poll.loop->arm(poll.timer, 1);
    }
  };
  if (done()) return true;
  Poll poll{&loop, &done, base::monotonic_ms() + timeout_ms};
  loop.arm(poll.timer, 1);
  loop.run();
  return done();
}

}  // namespace switchboard::loop::testing
