#include "cli/serve_command.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "cli/broadcast_handler.h"
#include "cli/echo_handler.h"
#include "http/query.h"
#include "switchboard/hub.h"
#include "switchboard/server.h"

namespace switchboard::cli {
namespace {

struct ServeOptions {
  ServerConfig config;
  HubConfig hub;
  std::vector<std::string> namespaces;
  bool echo = false;
  bool broadcast = false;
  bool insecure_user_query = false;
};

// "chat:*=presence,join_leave,no_client_publish" -> NamespaceOptions.
NamespaceOptions parse_namespace(const std::string& text) {
  NamespaceOptions options;
  const std::size_t equals = text.find('=');
  options.pattern = text.substr(0, equals);
  if (options.pattern.empty()) throw CLI::ValidationError("--namespace", "empty pattern in '" + text + "'");
  std::string_view flags = equals == std::string::npos ? std::string_view() : std::string_view(text).substr(equals + 1);
  while (!flags.empty()) {
    const std::size_t comma = flags.find(',');
    const std::string_view flag = flags.substr(0, comma);
    flags = comma == std::string_view::npos ? std::string_view() : flags.substr(comma + 1);
    if (flag == "presence") {
      options.presence = true;
    } else if (flag == "join_leave") {
      options.presence = true;
      options.join_leave = true;
    } else if (flag == "no_client_publish") {
      options.client_publish = false;
    } else if (!flag.empty()) {
      throw CLI::ValidationError(
          "--namespace", "unknown option '" + std::string(flag) + "' (presence, join_leave, no_client_publish)");
    }
  }
  return options;
}

int run_serve(ServeOptions& options) {
  EchoHandler echo;
  BroadcastHandler broadcast;
  for (const std::string& text : options.namespaces) options.hub.namespaces.push_back(parse_namespace(text));
  Hub hub(options.hub);
  if (options.insecure_user_query) {
    // Development only: whoever connects says who they are.
    hub.set_authenticator([](const HttpRequest& request) -> std::optional<Principal> {
      Principal principal;
      if (std::optional<std::string> user = http::query_parameter(request.target, "user")) principal.user = *user;
      return principal;
    });
    base::log(base::LogLevel::kWarn, "--insecure-user-query: clients choose their own user id with ?user=");
  }
  WebSocketHandler& handler = options.echo        ? static_cast<WebSocketHandler&>(echo)
                              : options.broadcast ? static_cast<WebSocketHandler&>(broadcast)
                                                  : hub;
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
  base::log(base::LogLevel::kInfo, "%s server on %s:%u, %u workers",
            options.echo ? "echo" : (options.broadcast ? "broadcast" : "hub (protocol v1)"),
            options.config.host.c_str(), static_cast<unsigned>(server.port()), server.worker_count());
  server.wait();
  base::log(base::LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  ServerConfig& config = options->config;
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Run the server: the messaging hub (protocol v1, subprotocol switchboard.v1.json) unless --echo or "
      "--broadcast");
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
  HubConfig& hub = options->hub;
  serve
      ->add_option("--namespace", options->namespaces,
                   "Channel namespace options, repeatable: 'chat:*=presence,join_leave' or "
                   "'news=no_client_publish'")
      ->type_name("PATTERN=OPTIONS");
  serve->add_option("--rpc-timeout-ms", hub.rpc_timeout_ms, "Time an rpc handler has to answer")->capture_default_str();
  serve->add_option("--max-subscriptions", hub.max_subscriptions_per_connection, "Channels per connection")
      ->capture_default_str();
  serve->add_flag("--insecure-user-query", options->insecure_user_query,
                  "Development only: take the user id from ?user= in the WebSocket URL, unchecked");
  serve->callback([options] { throw CLI::RuntimeError(run_serve(*options)); });
}

}  // namespace switchboard::cli
