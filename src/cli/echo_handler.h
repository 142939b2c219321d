// `switchboard serve --echo`: every message goes back to its sender with
// its opcode. The conformance suite and the benchmarks drive this.
#pragma once

#include "switchboard/server.h"

namespace switchboard::cli {

class EchoHandler final : public WebSocketHandler {
 public:
  void on_message(Connection& connection, std::string_view payload, Opcode opcode) override {
    // Reading pauses while a connection's outgoing buffer is over its cap
    // (backpressure), so a drop here means a peer that never reads at all.
    if (connection.send(payload, opcode) == SendStatus::kDropped && connection.is_open()) {
      connection.close(CloseCode::kTryAgainLater, "slow consumer");
    }
  }
};

}  // namespace switchboard::cli
