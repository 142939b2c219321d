// The C++ client from a plain main(): subscribe to a channel, publish to
// it, call an rpc, print what arrives. The client reconnects by itself;
// stop it with Ctrl-C.
//
// Build: cmake --build build/release --target client_example
// Run:   build/release/src/cli/switchboard serve --insecure-user-query &
//        build/release/examples/client_example 'ws://127.0.0.1:8080/?user=ada'
//        (TOKEN=... in the environment sends a token instead)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "switchboard/client.h"

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a line at a time, also into a pipe
  const char* url = argc > 1 ? argv[1] : "ws://127.0.0.1:8080/?user=ada";
  switchboard::ClientOptions options;
  if (const char* token = std::getenv("TOKEN")) options.token = token;
  options.on_state = [](const switchboard::StateChange& change) {
    std::printf("[%s] %s\n", switchboard::to_string(change.state), change.reason.c_str());
  };
  switchboard::Client client(options);
  if (const std::string error = client.connect(url); !error.empty()) {
    std::fprintf(stderr, "client_example: %s\n", error.c_str());
    return 1;
  }

  switchboard::SubscriptionHandlers handlers;
  handlers.on_message = [](std::string_view data, std::uint64_t offset) {
    std::printf("message #%llu: %.*s\n", static_cast<unsigned long long>(offset), static_cast<int>(data.size()),
                data.data());
  };
  // On a channel with history (serve --namespace 'chat:*=history_size:100,history_ttl:300')
  // a reconnect recovers what was missed; these say how it went.
  handlers.on_subscribed = [](const switchboard::SubscribedInfo& info) {
    std::printf("subscribed (recoverable %d, recovered %zu, epoch %s, offset %llu)\n", info.recoverable,
                info.recovered_count, info.epoch.c_str(), static_cast<unsigned long long>(info.offset));
  };
  handlers.on_recovery_failed = [](const switchboard::SubscribedInfo&) {
    std::printf("missed messages could not be recovered: reload the state\n");
  };
  switchboard::Subscription lobby = client.subscribe("chat:lobby", handlers);

  // Queued until the connection is up; the future is answered by the reply
  // with the same id.
  const switchboard::Result sent = client.publish("chat:lobby", R"({"text":"hello from C++"})").get();
  if (sent.ok()) {
    std::printf("published: %s\n", sent.data().c_str());
  } else {
    std::printf("not published: %s\n", sent.error().message.c_str());
  }
  const switchboard::Result user = client.rpc("getUser", R"({"id":42})").get();
  std::printf("getUser: %s\n", user.ok() ? user.data().c_str() : user.error().message.c_str());

  // Messages keep arriving on the client's thread.
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}
