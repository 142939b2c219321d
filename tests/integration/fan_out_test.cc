// The serialise-once fan-out path: SharedMessage sends batched per loop
// iteration, across workers, in order with direct sends and close frames.
#include <memory>

#include <gtest/gtest.h>

#include "cli/broadcast_handler.h"
#include "integration/raw_client.h"
#include "switchboard/server.h"

namespace switchboard {
namespace {

using testing::RawClient;

ServerConfig test_config(unsigned workers) {
  ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.workers = workers;
  config.handle_signals = HandleSignals::kNo;
  return config;
}

TEST(FanOut, EveryConnectionOnEveryWorkerGetsEveryMessageInPublishOrder) {
  cli::BroadcastHandler handler;
  Server server(test_config(2), handler);
  server.start();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<RawClient>(server.port()));
    ASSERT_TRUE(clients.back()->upgrade().starts_with("HTTP/1.1 101"));
  }
  // No wait needed: on_open (the registration) runs before the 101 leaves.
  constexpr int kMessages = 500;
  for (int i = 0; i < kMessages; ++i) clients[3]->send_frame(Opcode::kText, "m" + std::to_string(i));
  for (auto& client : clients) {
    for (int i = 0; i < kMessages; ++i) {
      auto frame = client->read_frame();
      ASSERT_TRUE(frame);
      ASSERT_EQ(frame->payload, "m" + std::to_string(i));
    }
  }
  clients.clear();  // EOF: the drain need not wait for close answers
  server.stop();
  server.wait();
}

// Sends shared, direct, shared, then closes: the peer must see them in that
// order even though shared frames wait for the end of the iteration.
class MixingHandler final : public WebSocketHandler {
 public:
  void on_message(Connection& connection, std::string_view, Opcode) override {
    connection.send(SharedMessage::make("first (shared)", Opcode::kText));
    connection.send_text("second (direct)");
    connection.send(SharedMessage::make("third (shared)", Opcode::kBinary));
    connection.close(CloseCode::kNormal, "fourth");
  }
};

TEST(FanOut, DirectSendsAndTheCloseFrameKeepTheirPlaceBehindBatchedFrames) {
  MixingHandler handler;
  Server server(test_config(1), handler);
  server.start();
  auto owned = std::make_unique<RawClient>(server.port());
  RawClient& client = *owned;
  client.upgrade();
  client.send_frame(Opcode::kText, "go");
  auto first = client.read_frame();
  auto second = client.read_frame();
  auto third = client.read_frame();
  auto fourth = client.read_frame();
  ASSERT_TRUE(first && second && third && fourth);
  EXPECT_EQ(first->payload, "first (shared)");
  EXPECT_EQ(second->payload, "second (direct)");
  EXPECT_EQ(third->payload, "third (shared)");
  EXPECT_EQ(third->opcode, Opcode::kBinary);
  EXPECT_EQ(fourth->opcode, Opcode::kClose);
  EXPECT_EQ(fourth->payload, "fourth");
  client.send_close(1000, "");
  EXPECT_TRUE(client.wait_for_eof());
  owned.reset();
  server.stop();
  server.wait();
}

TEST(FanOut, AClosedRecipientIsSkipped) {
  cli::BroadcastHandler handler;
  Server server(test_config(1), handler);
  server.start();
  auto leaver = std::make_unique<RawClient>(server.port());
  leaver->upgrade();
  auto owned = std::make_unique<RawClient>(server.port());
  RawClient& stayer = *owned;
  stayer.upgrade();
  leaver.reset();  // TCP gone, perhaps while a batch for it is pending
  for (int i = 0; i < 100; ++i) stayer.send_frame(Opcode::kBinary, std::string(1000, static_cast<char>(i)));
  for (int i = 0; i < 100; ++i) {
    auto frame = stayer.read_frame();
    ASSERT_TRUE(frame);
    ASSERT_EQ(frame->payload, std::string(1000, static_cast<char>(i)));
  }
  owned.reset();
  server.stop();
  server.wait();
}

}  // namespace
}  // namespace switchboard
