#include "loop/write_queue.h"

#include <string>

#include <gtest/gtest.h>

namespace switchboard::loop {
namespace {

std::string drain_all(const WriteQueue& queue) {
  iovec iov[64];
  int n = queue.gather(iov, 64);
  std::string out;
  for (int i = 0; i < n; ++i) out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return out;
}

TEST(WriteQueue, KeepsOrderAcrossPartialConsumes) {
  WriteQueue queue;
  EXPECT_TRUE(queue.empty());
  queue.append("hello ");
  queue.append("");
  queue.append("world");
  EXPECT_EQ(queue.size(), 11u);
  EXPECT_EQ(drain_all(queue), "hello world");
  queue.consume(3);
  EXPECT_EQ(drain_all(queue), "lo world");
  queue.consume(3);  // exactly the end of the first chunk
  EXPECT_EQ(drain_all(queue), "world");
  queue.append("!");
  queue.consume(5);
  EXPECT_EQ(drain_all(queue), "!");
  queue.consume(1);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.size(), 0u);
  queue.append("again");
  EXPECT_EQ(drain_all(queue), "again");
}

TEST(WriteQueue, GatherRespectsMaxIov) {
  WriteQueue queue;
  for (int i = 0; i < 10; ++i) queue.append("x");
  iovec iov[4];
  EXPECT_EQ(queue.gather(iov, 4), 4);
  queue.clear();
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace switchboard::loop
