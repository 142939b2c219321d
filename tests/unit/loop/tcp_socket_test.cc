#include "loop/tcp_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::loop {
namespace {

// A socketpair: `socket` is the TcpSocket under test on `loop`, `peer` a
// plain blocking fd the test reads and writes directly.
class TcpSocketTest : public ::testing::Test, public IoHandler {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    peer_ = fds[1];
    int flags = fcntl(peer_, F_GETFL);
    fcntl(peer_, F_SETFL, flags & ~O_NONBLOCK);
    socket_.open(loop_, fds[0], *this);
  }
  void TearDown() override {
    socket_.close();
    if (peer_ >= 0) ::close(peer_);
  }

  void on_io(std::uint32_t events) override {
    if (events & EPOLLOUT) last_flush_ = socket_.flush();
  }

  std::string read_peer(std::size_t n) {
    std::string out;
    char buffer[65536];
    while (out.size() < n) {
      ssize_t got = ::read(peer_, buffer, std::min(sizeof buffer, n - out.size()));
      if (got <= 0) break;
      out.append(buffer, static_cast<std::size_t>(got));
    }
    return out;
  }

  EventLoop loop_;
  TcpSocket socket_;
  int peer_ = -1;
  FlushStatus last_flush_ = FlushStatus::kPending;
};

TEST_F(TcpSocketTest, WritesGoStraightToTheKernelWhenItHasRoom) {
  EXPECT_EQ(socket_.write({"abc", "def"}), WriteStatus::kSent);
  EXPECT_EQ(socket_.buffered_bytes(), 0u);
  EXPECT_EQ(read_peer(6), "abcdef");
}

TEST_F(TcpSocketTest, QueuesTheRestAndFlushesInOrderOnWritable) {
  std::string big(4 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(socket_.write({big}), WriteStatus::kBuffered);
  EXPECT_GT(socket_.buffered_bytes(), 0u);
  // Later writes must not overtake the queue.
  EXPECT_EQ(socket_.write({"tail"}), WriteStatus::kBuffered);
  std::string received;
  std::thread reader([&] { received = read_peer(big.size() + 4); });
  while (socket_.buffered_bytes() > 0) {
    loop_.post([this] { loop_.quit(); });
    loop_.run();
  }
  reader.join();
  EXPECT_EQ(last_flush_, FlushStatus::kDrained);
  EXPECT_EQ(received, big + "tail");
}

TEST_F(TcpSocketTest, CorkCoalescesSmallWritesIntoOneSend) {
  CorkBuffer cork;
  socket_.cork(cork);
  EXPECT_EQ(socket_.write({"one "}), WriteStatus::kSent);
  EXPECT_EQ(socket_.write({"two "}), WriteStatus::kSent);
  EXPECT_EQ(cork.used, 8u);
  char probe;
  EXPECT_EQ(::recv(peer_, &probe, 1, MSG_DONTWAIT), -1);  // nothing sent yet
  std::string big(CorkBuffer::kCapacity, 'b');
  EXPECT_EQ(socket_.write({big}), WriteStatus::kSent);  // too big: flushes the cork first, in order
  EXPECT_EQ(socket_.write({"three"}), WriteStatus::kSent);
  EXPECT_EQ(socket_.uncork(), WriteStatus::kSent);
  EXPECT_EQ(cork.owner, nullptr);
  EXPECT_EQ(read_peer(8 + big.size() + 5), "one two " + big + "three");
}

TEST_F(TcpSocketTest, WriteSharedQueuesWhatTheKernelRefusesByReference) {
  // Many large shared frames: the kernel takes part, the rest is queued as
  // references (the test releases its own references at once).
  std::vector<SharedBuffer*> frames;
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    SharedBuffer* frame = SharedBuffer::create(128 * 1024);
    std::memset(frame->mutable_data(), 'a' + i % 26, frame->size());
    expected.append(frame->data(), frame->size());
    frames.push_back(frame);
  }
  socket_.write({"head"});
  EXPECT_EQ(socket_.write_shared(frames.data(), frames.size()), WriteStatus::kBuffered);
  EXPECT_EQ(socket_.write({"tail"}), WriteStatus::kBuffered);  // behind the queued references
  for (SharedBuffer* frame : frames) frame->release();
  std::string received;
  std::size_t total = 4 + expected.size() + 4;
  std::thread reader([&] { received = read_peer(total); });
  while (socket_.buffered_bytes() > 0) {
    loop_.post([this] { loop_.quit(); });
    loop_.run();
  }
  reader.join();
  EXPECT_EQ(received.size(), total);
  EXPECT_TRUE(received == "head" + expected + "tail");
}

TEST_F(TcpSocketTest, WriteSharedFlushesTheCorkFirst) {
  CorkBuffer cork;
  socket_.cork(cork);
  socket_.write({"corked "});
  SharedBuffer* frame = SharedBuffer::create(6);
  std::memcpy(frame->mutable_data(), "shared", 6);
  EXPECT_EQ(socket_.write_shared(&frame, 1), WriteStatus::kSent);
  frame->release();
  EXPECT_EQ(read_peer(13), "corked shared");
}

TEST_F(TcpSocketTest, WriteToAClosedPeerFailsWithoutSigpipe) {
  ::close(peer_);
  peer_ = -1;
  EXPECT_EQ(socket_.write({"hello"}), WriteStatus::kFailed);
}

TEST_F(TcpSocketTest, ShutdownWriteSendsFinAfterQueuedBytes) {
  std::string big(2 << 20, 'q');
  socket_.write({big});
  socket_.shutdown_write();
  std::string received;
  std::thread reader([&] {
    received = read_peer(big.size());
    char extra;
    EXPECT_EQ(::read(peer_, &extra, 1), 0);  // EOF right after the data
  });
  while (socket_.buffered_bytes() > 0) {
    loop_.post([this] { loop_.quit(); });
    loop_.run();
  }
  reader.join();
  EXPECT_EQ(received.size(), big.size());
}

TEST_F(TcpSocketTest, ReadReportsDataWouldBlockAndEof) {
  char buffer[16];
  EXPECT_EQ(socket_.read(buffer, sizeof buffer).status, ReadStatus::kWouldBlock);
  ASSERT_EQ(::write(peer_, "hi", 2), 2);
  ReadResult result = socket_.read(buffer, sizeof buffer);
  EXPECT_EQ(result.status, ReadStatus::kData);
  EXPECT_EQ(std::string(buffer, result.size), "hi");
  ::close(peer_);
  peer_ = -1;
  EXPECT_EQ(socket_.read(buffer, sizeof buffer).status, ReadStatus::kEof);
}

}  // namespace
}  // namespace switchboard::loop
