#include "bench/options.h"

#include <cmath>

#include "bench/payload.h"
#include "bench/pubsub_scenario.h"
#include "bench/recover_scenario.h"
#include "client/handshake.h"
#include "client/url.h"
#include "http/request_parser.h"
#include "protocol/names.h"

namespace switchboard::bench {
namespace {

bool positive_seconds(double value) { return std::isfinite(value) && value > 0 && value <= 86400; }

// ws:// or wss:// (the load generator's own TLS costs it CPU too: give it
// threads enough when measuring the server's).
base::Result<client::WsUrl> check_load_url(std::string_view text) { return client::parse_ws_url(text); }

base::Result<void> check_inflight(const BenchOptions& options) {
  if (options.inflight == 0 || options.inflight > kMaxInflight) {
    return base::Error("-p/--inflight must be from 1 to " + std::to_string(kMaxInflight));
  }
  return {};
}

base::Result<void> validate_recover(const BenchOptions& options) {
  if (!protocol::is_valid_channel(options.channel)) {
    return base::Error("--channel must be a channel name of protocol v1 (docs/PROTOCOL.md \"Names\")");
  }
  if (options.recover == 0 || options.recover > kMaxRecover) {
    return base::Error("--recover must be from 1 to " + std::to_string(kMaxRecover));
  }
  if (options.storms == 0 || options.storms > kMaxStorms) {
    return base::Error("--storms must be from 1 to " + std::to_string(kMaxStorms));
  }
  if (options.payload_size < kRecoverPayloadMin || options.payload_size > kRecoverPayloadMax) {
    return base::Error("-s/--size must be from " + std::to_string(kRecoverPayloadMin) + " to " +
                       std::to_string(kRecoverPayloadMax) + " bytes for recover");
  }
  return check_inflight(options);
}

}  // namespace

const char* scenario_name(Scenario scenario) {
  switch (scenario) {
    case Scenario::kEcho:
      return "echo";
    case Scenario::kBroadcast:
      return "broadcast";
    case Scenario::kConnect:
      return "connect";
    case Scenario::kPubsub:
      return "pubsub";
    case Scenario::kRecover:
      return "recover";
  }
  return "?";
}

base::Result<void> validate_options(const BenchOptions& options) {
  if (options.url.empty()) return base::Error("--url is required (e.g. --url ws://127.0.0.1:8080/)");
  const base::Result<client::WsUrl> url = check_load_url(options.url);
  if (!url) return base::Error("--url: " + url.error());
  if (!options.publish_url.empty()) {
    if (options.scenario != Scenario::kPubsub) return base::Error("--publish-url is for the pubsub scenario only");
    if (const auto url = check_load_url(options.publish_url); !url) return base::Error("--publish-url: " + url.error());
  }
  if (options.connections == 0) return base::Error("-c/--connections must be at least 1");
  if (options.threads == 0 || options.threads > kMaxThreads) {
    return base::Error("--threads must be from 1 to " + std::to_string(kMaxThreads));
  }
  if (options.threads > options.connections) return base::Error("--threads must not exceed the number of connections");
  if (options.concurrency == 0) return base::Error("--concurrency must be at least 1");
  if (!positive_seconds(options.handshake_timeout_s)) return base::Error("--handshake-timeout must be > 0 seconds");
  if (options.source_addresses > kMaxSourceAddresses) {
    return base::Error("--source-addresses must be at most " + std::to_string(kMaxSourceAddresses));
  }
  if (options.source_addresses > 0 && url->ipv6_literal) {
    return base::Error("--source-addresses needs an IPv4 loopback target (127.x.y.z)");
  }
  for (const std::string& header : options.headers) {
    if (const auto checked = client::check_header_line(header); !checked)
      return base::Error("--header " + checked.error());
  }
  for (char c : options.subprotocol) {
    if (!http::is_tchar(c)) return base::Error("--subprotocol must be a token (RFC 6455 §4.1)");
  }
  if (options.server_pid < 0) return base::Error("--server-pid must be a process id");
  if (options.scenario == Scenario::kConnect) {
    if (!std::isfinite(options.hold_s) || options.hold_s < 0 || options.hold_s > 86400) {
      return base::Error("--hold must be from 0 to 86400 seconds");
    }
    return {};
  }
  if (options.scenario == Scenario::kRecover) return validate_recover(options);
  if (!positive_seconds(options.duration_s)) return base::Error("--duration must be > 0 seconds (at most a day)");
  const std::size_t minimum = options.scenario == Scenario::kPubsub      ? kPubsubPayloadMin
                              : options.scenario == Scenario::kBroadcast ? kSequencedPayloadMin
                                                                         : kTimestampSize;
  if (options.payload_size < minimum) {
    return base::Error("-s/--size must be at least " + std::to_string(minimum) + " bytes for " +
                       scenario_name(options.scenario) + " (the payload carries the send timestamp" +
                       (options.scenario == Scenario::kEcho ? ")" : " and a sequence number)"));
  }
  if (options.scenario == Scenario::kPubsub && (options.channels == 0 || options.channels > kMaxChannels)) {
    return base::Error("--channels must be from 1 to " + std::to_string(kMaxChannels));
  }
  if (options.scenario == Scenario::kPubsub && options.channels > options.connections) {
    return base::Error("--channels must not exceed the number of subscribers (-c)");
  }
  if (options.payload_size > kMaxPayloadSize) return base::Error("-s/--size must be at most 16 MiB");
  return check_inflight(options);
}

}  // namespace switchboard::bench
