#include "loop/timer_wheel.h"

#include <vector>

#include <gtest/gtest.h>

namespace switchboard::loop {
namespace {

struct Recorder {
  std::vector<int>* fired;
  int id;
  static void fire(void* self) {
    auto* recorder = static_cast<Recorder*>(self);
    recorder->fired->push_back(recorder->id);
  }
};

TEST(TimerWheel, FiresAfterDelayNeverEarly) {
  std::vector<int> fired;
  TimerWheel wheel(1000, 10, 64);
  Recorder r{&fired, 1};
  Timer timer(&Recorder::fire, &r);
  wheel.arm(timer, 1000, 35);
  wheel.advance(1030);
  EXPECT_TRUE(fired.empty());
  EXPECT_TRUE(timer.armed());
  wheel.advance(1040);
  EXPECT_EQ(fired, std::vector<int>{1});
  EXPECT_FALSE(timer.armed());
  EXPECT_EQ(wheel.armed_count(), 0u);
}

TEST(TimerWheel, DelayLongerThanOneLapWaitsForItsRound) {
  std::vector<int> fired;
  TimerWheel wheel(0, 10, 8);  // one lap: 80 ms
  Recorder r{&fired, 7};
  Timer timer(&Recorder::fire, &r);
  wheel.arm(timer, 0, 250);
  for (std::uint64_t now = 10; now < 250; now += 10) wheel.advance(now);
  EXPECT_TRUE(fired.empty());
  wheel.advance(250);
  EXPECT_EQ(fired, std::vector<int>{7});
}

TEST(TimerWheel, LongSleepFiresEverythingDue) {
  std::vector<int> fired;
  TimerWheel wheel(0, 10, 8);
  Recorder a{&fired, 1}, b{&fired, 2}, c{&fired, 3};
  Timer ta(&Recorder::fire, &a), tb(&Recorder::fire, &b), tc(&Recorder::fire, &c);
  wheel.arm(ta, 0, 30);
  wheel.arm(tb, 0, 500);
  wheel.arm(tc, 0, 5000);
  wheel.advance(1000);  // far more than a lap at once
  std::sort(fired.begin(), fired.end());
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_TRUE(tc.armed());
}

TEST(TimerWheel, CancelAndRearm) {
  std::vector<int> fired;
  TimerWheel wheel(0, 10, 64);
  Recorder r{&fired, 1};
  Timer timer(&Recorder::fire, &r);
  wheel.arm(timer, 0, 20);
  timer.cancel();
  EXPECT_EQ(wheel.armed_count(), 0u);
  wheel.advance(100);
  EXPECT_TRUE(fired.empty());
  wheel.arm(timer, 100, 20);
  wheel.arm(timer, 100, 50);  // re-arming moves it
  EXPECT_EQ(wheel.armed_count(), 1u);
  wheel.advance(130);
  EXPECT_TRUE(fired.empty());
  wheel.advance(150);
  EXPECT_EQ(fired.size(), 1u);
}

// A callback may cancel a timer due in the same tick (it must then not
// fire), and re-arm itself.
struct Canceller {
  Timer* other = nullptr;
  TimerWheel* wheel = nullptr;
  Timer* self = nullptr;
  int runs = 0;
  static void fire(void* context) {
    auto* c = static_cast<Canceller*>(context);
    ++c->runs;
    c->other->cancel();
    if (c->runs == 1) c->wheel->arm(*c->self, 20, 10);
  }
};

TEST(TimerWheel, CallbackCancelsAnotherDueTimerAndRearmsItself) {
  TimerWheel wheel(0, 10, 64);
  Canceller a, b;
  Timer ta(&Canceller::fire, &a), tb(&Canceller::fire, &b);
  a = {&tb, &wheel, &ta};
  b = {&ta, &wheel, &tb};
  wheel.arm(ta, 0, 20);
  wheel.arm(tb, 0, 20);
  wheel.advance(20);
  // Whichever ran first cancelled the other, which must not have run.
  EXPECT_EQ(a.runs + b.runs, 1);
  Canceller& winner = a.runs == 1 ? a : b;
  EXPECT_TRUE(winner.self->armed());
  EXPECT_FALSE(winner.other->armed());
  wheel.advance(30);
  EXPECT_EQ(winner.runs, 2);
  EXPECT_EQ(a.runs + b.runs, 2);
  EXPECT_EQ(wheel.armed_count(), 0u);
}

TEST(TimerWheel, PollTimeoutOnlyWhileArmed) {
  TimerWheel wheel(0, 25, 64);
  EXPECT_EQ(wheel.poll_timeout_ms(3), -1);
  std::vector<int> fired;
  Recorder r{&fired, 1};
  Timer timer(&Recorder::fire, &r);
  wheel.arm(timer, 3, 1000);
  EXPECT_EQ(wheel.poll_timeout_ms(3), 22);
}

TEST(TimerWheel, DestroyingAnArmedTimerUnlinksIt) {
  TimerWheel wheel(0, 10, 64);
  std::vector<int> fired;
  Recorder r{&fired, 1};
  {
    Timer timer(&Recorder::fire, &r);
    wheel.arm(timer, 0, 10);
  }
  EXPECT_EQ(wheel.armed_count(), 0u);
  wheel.advance(100);
  EXPECT_TRUE(fired.empty());
}

}  // namespace
}  // namespace switchboard::loop
