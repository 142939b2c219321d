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
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
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
