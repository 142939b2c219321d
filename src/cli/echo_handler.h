// `switchboard serve --echo`: every message goes back to its sender with
// its opcode. The conformance suite and the benchmarks drive this.
#pragma once

#include "switchboard/server.h"

namespace switchboard::cli {

class EchoHandler final : public WebSocketHandler {
 public:
  void on_message(Connection& connection, std::string_view payload, Opcode opcode) override {
    // An answer to the connection's own message is never dropped: the
    // server pauses reading from a peer that does not read (backpressure).
    connection.send(payload, opcode);
  }
};

}  // namespace switchboard::cli
