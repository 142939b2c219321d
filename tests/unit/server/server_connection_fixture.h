// The fixture of the ServerConnection tests: a running worker, a recording
// handler, and peers on socketpairs the worker adopts (worker_harness.h).
// Each test ends by checking that every connection was freed: each one that
// opened was reported closed exactly once, and the worker holds none.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "worker_harness.h"

namespace switchboard::server::testing {

constexpr std::size_t kCap = 64 * 1024;  // max_buffered_bytes in the backpressure tests
// The server end's SO_SNDBUF there: the kernel takes little, so what the
// peer does not read stays in the connection's own queue.
constexpr int kSmallSendBuffer = 4096;

class ServerConnectionTest : public ::testing::Test {
 protected:
  ServerConnectionTest() { config_.ping_interval_ms = 0; }  // no heartbeat unless a test wants it

  void start(const std::function<void(Router&)>& add_routes = nullptr) {
    running_ = std::make_unique<RunningWorker>(config_, handler_, add_routes);
  }

  // Adopted and upgraded: the peer has read the 101, so on_open has run.
  Peer open(std::uint64_t* id, int send_buffer = 0) {
    Peer peer = running_->adopt(send_buffer);
    EXPECT_TRUE(peer.send(upgrade_request()));
    const std::string head = peer.read_head();
    EXPECT_EQ(head.rfind("HTTP/1.1 101 ", 0), 0u) << head;
    const std::vector<std::uint64_t> opened = handler_.opened();
    EXPECT_FALSE(opened.empty());
    *id = opened.empty() ? 0 : opened.back();
    return peer;
  }

  // Runs action on the open connection id, on the worker thread.
  void with_connection(std::uint64_t id, const std::function<void(Connection&)>& action) {
    running_->on_worker([&] {
      Connection* connection = handler_.find(id);
      ASSERT_NE(connection, nullptr);
      action(*connection);
    });
  }

  // The peers are gone by now (test-body locals): every connection must
  // be reported closed once and be freed.
  void TearDown() override {
    if (!running_) return;
    EXPECT_TRUE(eventually([&] { return running_->worker().connection_count() == 0; }))
        << running_->worker().connection_count() << " connections left";
    const std::vector<testing::Closed> closed = handler_.closed();
    for (std::uint64_t id : handler_.opened()) {
      EXPECT_EQ(std::count_if(closed.begin(), closed.end(), [&](const testing::Closed& c) { return c.id == id; }), 1)
          << "on_close for connection " << id;
    }
    EXPECT_EQ(closed.size(), handler_.opened().size());
    running_->stop();
  }

  std::optional<PeerFrame> read_frame_skipping_pings(Peer& peer) {
    std::optional<PeerFrame> frame;
    do frame = peer.read_frame();
    while (frame && frame->opcode == Opcode::kPing);
    return frame;
  }

  ServerConfig config_;
  RecordingHandler handler_;
  std::unique_ptr<RunningWorker> running_;
};

}  // namespace switchboard::server::testing
