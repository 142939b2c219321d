#include "loop/event_loop.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "base/clock.h"

namespace switchboard::loop {
namespace {

TEST(EventLoop, PostFromAnotherThreadWakesTheLoop) {
  EventLoop loop;
  std::atomic<int> ran{0};
  std::thread poster([&] {
    for (int i = 0; i < 1000; ++i) loop.post([&] { ++ran; });
    loop.post([&] { loop.quit(); });
  });
  loop.run();
  poster.join();
  EXPECT_EQ(ran.load(), 1000);
}

TEST(EventLoop, StopSoonFromAnotherThread) {
  EventLoop loop;
  // The stopper waits until the loop is running (it ran a posted task), so
  // stop_soon reaches a loop that is already running, the case under test.
  std::atomic<bool> running{false};
  loop.post([&] {
    running = true;
    running.notify_one();
  });
  std::thread stopper([&] {
    running.wait(false);
    loop.stop_soon();
  });
  loop.run();  // returns only because of stop_soon
  stopper.join();
}

TEST(EventLoop, TimersFireOnTheLoopAndEndHooksRunEachIteration) {
  EventLoop loop;
  struct State {
    EventLoop* loop;
    std::uint64_t armed_at;
    std::uint64_t fired_at = 0;
  } state{&loop, loop.now_ms()};
  Timer timer(
      [](void* context) {
        auto* s = static_cast<State*>(context);
        s->fired_at = base::monotonic_ms();
        s->loop->quit();
      },
      &state);
  int hooks = 0;
  loop.add_end_of_iteration_hook([&] { ++hooks; });
  loop.arm(timer, 60);
  loop.run();
  EXPECT_GE(state.fired_at, state.armed_at + 60);
  EXPECT_GE(hooks, 1);
}

}  // namespace
}  // namespace switchboard::loop
