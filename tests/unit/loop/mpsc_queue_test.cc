#include "loop/mpsc_queue.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::loop {
namespace {

TEST(TaskQueue, SingleThreadFifo) {
  TaskQueue queue;
  std::vector<int> order;
  EXPECT_TRUE(queue.push([&] { order.push_back(1); }));   // was empty: wake the consumer
  EXPECT_FALSE(queue.push([&] { order.push_back(2); }));  // already pending
  EXPECT_EQ(queue.pending(), 2);
  while (queue.run_one()) {
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(queue.pending(), 0);
  EXPECT_FALSE(queue.run_one());
}

TEST(TaskQueue, ManyProducersEveryTaskRunsOnceInPerProducerOrder) {
  TaskQueue queue;
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 20000;
  std::vector<int> last(kProducers, -1);
  bool in_order = true;
  long ran = 0;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        queue.push([&, p, i] {
          if (last[p] != i - 1) in_order = false;
          last[p] = i;
          ++ran;
        });
      }
    });
  }
  while (ran < kProducers * kPerProducer) {
    if (!queue.run_one()) std::this_thread::yield();
  }
  for (auto& t : producers) t.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(ran, kProducers * kPerProducer);
  EXPECT_EQ(queue.pending(), 0);
}

TEST(TaskQueue, DestroyingWithPendingTasksFreesThem) {
  auto counter = std::make_shared<int>(0);
  {
    TaskQueue queue;
    queue.push([counter] { ++*counter; });
    queue.push([counter] { ++*counter; });
    EXPECT_EQ(counter.use_count(), 3);
  }
  EXPECT_EQ(counter.use_count(), 1);
  EXPECT_EQ(*counter, 0);
}

}  // namespace
}  // namespace switchboard::loop
