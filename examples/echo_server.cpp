// A complete WebSocket echo server on the embedding API.
// Build: cmake --build build/release --target echo_server
// Run:   build/release/examples/echo_server 9001
#include <cstdio>
#include <cstdlib>

#include "switchboard/server.h"

class Echo final : public switchboard::WebSocketHandler {
 public:
  void on_open(switchboard::Connection& connection, const switchboard::HttpRequest& request) override {
    std::printf("connection %llu from %.*s\n", static_cast<unsigned long long>(connection.id()),
                static_cast<int>(request.peer_address.size()), request.peer_address.data());
  }
  void on_message(switchboard::Connection& connection, std::string_view payload, switchboard::Opcode opcode) override {
    connection.send(payload, opcode);  // same bytes, same opcode (text or binary)
  }
  void on_close(switchboard::Connection& connection, switchboard::CloseCode code, std::string_view) override {
    std::printf("connection %llu closed: %u\n", static_cast<unsigned long long>(connection.id()),
                static_cast<unsigned>(code));
  }
};

int main(int argc, char** argv) {
  switchboard::ServerConfig config;
  config.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 9001);
  Echo handler;
  switchboard::Server server(config, handler);
  server.run();  // until SIGTERM or SIGINT: then every connection gets 1001
}
