#include "cli/serve_command.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <thread>

#include "base/log.h"
#include "cli/broadcast_handler.h"
#include "cli/echo_handler.h"
#include "switchboard/server.h"

namespace switchboard::cli {
namespace {

struct ServeOptions {
  ServerConfig config;
  bool echo = false;
  bool broadcast = false;
};

int run_serve(const ServeOptions& options) {
  if (!options.echo && !options.broadcast) {
    std::fprintf(stderr,
                 "switchboard serve: the messaging hub (protocol v1) is not built yet (issue #4); "
                 "run `switchboard serve --echo` (or --broadcast)\n");
    return 2;
  }
  EchoHandler echo;
  BroadcastHandler broadcast;
  WebSocketHandler& handler = options.echo ? static_cast<WebSocketHandler&>(echo) : broadcast;
  Server server(options.config, handler);
  // Workers accept as soon as they start: size the registry before that.
  broadcast.attach(
      server, options.config.workers != 0 ? options.config.workers : std::max(1u, std::thread::hardware_concurrency()));
  try {
    server.start();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "switchboard serve: %s\n", error.what());
    return 1;
  }
  // Scripts and tests wait for this line; with --port 0 it tells the port.
  std::printf("listening on %s:%u\n", options.config.host.c_str(), static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  base::log(base::LogLevel::kInfo, "%s server on %s:%u, %u workers", options.echo ? "echo" : "broadcast",
            options.config.host.c_str(), static_cast<unsigned>(server.port()), server.worker_count());
  server.wait();
  base::log(base::LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  ServerConfig& config = options->config;
  CLI::App* serve = app.add_subcommand("serve", "Run the WebSocket server");
  auto* echo = serve->add_flag("--echo", options->echo, "Echo every message back to its sender (RFC 6455 echo server)");
  serve->add_flag("--broadcast", options->broadcast, "Send every message to every open connection (fan-out benchmark)")
      ->excludes(echo);
  serve->add_option("--host", config.host, "Address to listen on (IPv4 or IPv6 literal)")->capture_default_str();
  serve->add_option("--port", config.port, "TCP port (0: pick a free one)")->capture_default_str();
  serve->add_option("--workers", config.workers, "Worker threads, one epoll loop each (0: one per core)")
      ->capture_default_str();
  serve->add_option("--max-message-size", config.max_message_size, "Largest message in bytes (larger: close 1009)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  serve
      ->add_option("--max-buffered-bytes", config.max_buffered_bytes,
                   "Outgoing bytes queued per connection before reading pauses and sends drop")
      ->capture_default_str();
  serve->add_option("--handshake-timeout-ms", config.handshake_timeout_ms, "Time allowed for the HTTP upgrade")
      ->capture_default_str();
  serve->add_option("--ping-interval-ms", config.ping_interval_ms, "Server ping interval (0: no pings)")
      ->capture_default_str();
  serve->add_option("--missed-pongs", config.missed_pongs_allowed, "Unanswered pings before a peer is dropped")
      ->capture_default_str();
  serve->add_option("--close-timeout-ms", config.close_timeout_ms, "Wait for the peer's close frame")
      ->capture_default_str();
  serve->add_option("--drain-timeout-ms", config.drain_timeout_ms, "SIGTERM: time to close connections gracefully")
      ->capture_default_str();
  serve->callback([options] { throw CLI::RuntimeError(run_serve(*options)); });
}

}  // namespace switchboard::cli
