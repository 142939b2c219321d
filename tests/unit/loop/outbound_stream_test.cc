// OutboundStream against a loopback peer on the test's own loop: connect,
// write first and buffer the rest, EPOLLOUT only while bytes wait, reads,
// and every way a connection ends (refused, EOF, close, destroyed inside a
// callback). The TLS path is exercised by the Redis and client tests.
#include "loop/outbound_stream.h"

#include <netinet/in.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loopback_peer.h"

namespace switchboard::loop {
namespace {

using testing::LoopbackPeer;
using testing::run_until;

// Records what the stream reports; on_open runs when it opens.
struct RecordingOwner : StreamOwner {
  void on_stream_open() override {
    ++opened;
    if (on_open) on_open();
  }
  void on_stream_data(char* data, std::size_t size) override {
    received.append(data, size);
    if (on_data) on_data();
  }
  void on_stream_failed(const StreamError& error) override { failures.push_back(error); }

  int opened = 0;
  std::string received;
  std::vector<StreamError> failures;
  std::function<void()> on_open;
  std::function<void()> on_data;
};

class OutboundStreamTest : public ::testing::Test {
 protected:
  StreamTarget target_of(const LoopbackPeer& peer) {
    StreamTarget target;
    target.address = peer.address();
    target.address_size = peer.address_size();
    return target;
  }

  EventLoop loop_;
  RecordingOwner owner_;
  OutboundStream stream_{loop_, owner_};
};

TEST_F(OutboundStreamTest, ConnectsWritesAndReads) {
  LoopbackPeer peer(loop_);
  ASSERT_TRUE(peer.ok());
  peer.reply_after(5, "world");
  WriteStatus written = WriteStatus::kFailed;
  owner_.on_open = [&] { written = stream_.write("hello"); };
  ASSERT_TRUE(stream_.connect(target_of(peer)));
  EXPECT_EQ(stream_.state(), StreamState::kConnecting);
  ASSERT_TRUE(run_until(loop_, [&] { return owner_.received == "world"; }));
  EXPECT_EQ(written, WriteStatus::kSent);
  EXPECT_EQ(peer.received(), "hello");
  EXPECT_TRUE(stream_.is_open());
  EXPECT_TRUE(owner_.failures.empty());
  stream_.close();
  EXPECT_EQ(stream_.write("late"), WriteStatus::kFailed);
  EXPECT_TRUE(owner_.failures.empty());  // close() reports nothing
}

TEST_F(OutboundStreamTest, ConnectsOverIpv6) {
  LoopbackPeer peer(loop_, AF_INET6);
  if (!peer.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  peer.reply_after(2, "v6");
  owner_.on_open = [&] { stream_.write("hi"); };
  ASSERT_TRUE(stream_.connect(target_of(peer)));
  ASSERT_TRUE(run_until(loop_, [&] { return owner_.received == "v6"; }));
  EXPECT_EQ(peer.received(), "hi");
}

TEST_F(OutboundStreamTest, ARefusedConnectIsReportedFromTheLoop) {
  sockaddr_storage address{};
  socklen_t size = 0;
  {
    LoopbackPeer closed(loop_);  // a port that was free a moment ago
    ASSERT_TRUE(closed.ok());
    address = *reinterpret_cast<const sockaddr_storage*>(closed.address());
    size = closed.address_size();
  }
  StreamTarget target;
  target.address = reinterpret_cast<const sockaddr*>(&address);
  target.address_size = size;
  ASSERT_TRUE(stream_.connect(target));
  ASSERT_TRUE(run_until(loop_, [&] { return !owner_.failures.empty(); }));
  ASSERT_EQ(owner_.failures.size(), 1u);
  EXPECT_EQ(owner_.failures[0].failure, StreamFailure::kConnect);
  EXPECT_EQ(owner_.failures[0].system_error, ECONNREFUSED);
  EXPECT_EQ(owner_.failures[0].message(), "Connection refused");
  EXPECT_EQ(owner_.opened, 0);
  EXPECT_EQ(stream_.state(), StreamState::kClosed);
}

TEST_F(OutboundStreamTest, BuffersWhatTheKernelDoesNotTakeAndSendsItInOrder) {
  LoopbackPeer peer(loop_);
  ASSERT_TRUE(peer.ok());
  peer.pause_reading();
  ASSERT_TRUE(stream_.connect(target_of(peer)));
  ASSERT_TRUE(run_until(loop_, [&] { return owner_.opened == 1 && peer.accepted(); }));
  std::string big(32u << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  EXPECT_EQ(stream_.write(big), WriteStatus::kBuffered);
  EXPECT_GT(stream_.buffered_bytes(), 0u);
  // Later writes must not overtake the buffer.
  EXPECT_EQ(stream_.write("tail"), WriteStatus::kBuffered);
  stream_.write_buffer().append("more");
  peer.resume_reading();
  ASSERT_TRUE(run_until(loop_, [&] { return peer.received().size() == big.size() + 8; }));
  EXPECT_EQ(stream_.buffered_bytes(), 0u);
  EXPECT_TRUE(peer.received() == big + "tailmore");
  EXPECT_EQ(stream_.write("again"), WriteStatus::kSent);  // nothing waits: straight to the kernel
  EXPECT_TRUE(owner_.failures.empty());
}

TEST_F(OutboundStreamTest, FlushSendsWhatWasEncodedInPlace) {
  LoopbackPeer peer(loop_);
  ASSERT_TRUE(peer.ok());
  owner_.on_open = [&] {
    stream_.write_buffer().append("in ");
    stream_.write_buffer().append("place");
    EXPECT_EQ(stream_.buffered_bytes(), 8u);
    EXPECT_EQ(stream_.flush(), WriteStatus::kSent);
  };
  ASSERT_TRUE(stream_.connect(target_of(peer)));
  ASSERT_TRUE(run_until(loop_, [&] { return peer.received() == "in place"; }));
  EXPECT_EQ(stream_.buffered_bytes(), 0u);
}

TEST_F(OutboundStreamTest, ThePeerClosingIsReportedAfterItsLastBytes) {
  LoopbackPeer peer(loop_);
  ASSERT_TRUE(peer.ok());
  peer.reply_after(3, "bye", /*then_close=*/true);
  owner_.on_open = [&] { stream_.write("end"); };
  ASSERT_TRUE(stream_.connect(target_of(peer)));
  ASSERT_TRUE(run_until(loop_, [&] { return !owner_.failures.empty(); }));
  EXPECT_EQ(owner_.received, "bye");
  ASSERT_EQ(owner_.failures.size(), 1u);
  EXPECT_EQ(owner_.failures[0].failure, StreamFailure::kPeerClosed);
  EXPECT_EQ(stream_.state(), StreamState::kClosed);
}

TEST_F(OutboundStreamTest, ShutdownWriteSendsFinAfterTheBufferedBytes) {
  LoopbackPeer peer(loop_);
  ASSERT_TRUE(peer.ok());
  owner_.on_open = [&] {
    stream_.write_buffer().append("last words");
    stream_.shutdown_write();  // waits for the buffer
    stream_.flush();
  };
  ASSERT_TRUE(stream_.connect(target_of(peer)));
  ASSERT_TRUE(run_until(loop_, [&] { return peer.saw_eof(); }));
  EXPECT_EQ(peer.received(), "last words");
}

TEST_F(OutboundStreamTest, AnOwnerMayDestroyTheStreamInsideACallback) {
  LoopbackPeer peer(loop_);
  ASSERT_TRUE(peer.ok());
  peer.reply_after(1, "xyz");
  auto stream = std::make_unique<OutboundStream>(loop_, owner_);
  owner_.on_open = [&] { stream->write("?"); };
  owner_.on_data = [&] { stream.reset(); };
  ASSERT_TRUE(stream->connect(target_of(peer)));
  ASSERT_TRUE(run_until(loop_, [&] { return stream == nullptr; }));
  EXPECT_EQ(owner_.received, "xyz");
  EXPECT_TRUE(owner_.failures.empty());
}

TEST_F(OutboundStreamTest, ConnectAgainAfterAFailure) {
  LoopbackPeer peer(loop_);
  ASSERT_TRUE(peer.ok());
  peer.reply_after(1, "!", /*then_close=*/true);
  owner_.on_open = [&] { stream_.write("?"); };
  ASSERT_TRUE(stream_.connect(target_of(peer)));
  ASSERT_TRUE(run_until(loop_, [&] { return owner_.failures.size() == 1; }));
  LoopbackPeer second(loop_);
  ASSERT_TRUE(second.ok());
  second.reply_after(1, "again");
  ASSERT_TRUE(stream_.connect(target_of(second)));
  ASSERT_TRUE(run_until(loop_, [&] { return owner_.received == "!again"; }));
  EXPECT_EQ(owner_.opened, 2);
  EXPECT_EQ(owner_.failures.size(), 1u);
}

}  // namespace
}  // namespace switchboard::loop
