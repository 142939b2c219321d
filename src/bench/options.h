// What `switchboard bench` was asked to do: one plain struct filled by the
// CLI (src/cli/bench_command.cc), checked once by validate_options() before
// anything runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace switchboard::bench {

enum class Scenario : std::uint8_t {
  kEcho,       // C connections, P messages in flight each, round-trip latency
  kBroadcast,  // C subscribers + 1 publisher, delivery latency
  kConnect,    // open C connections, hold them idle, handshake rate and memory
  kPubsub,     // protocol v1 against a hub: C subscribers on N channels + 1 publisher
  kRecover,    // protocol v1: C subscribers recover K publications of one stream at once, R times
};

enum class PayloadKind : std::uint8_t { kText, kBinary };
enum class OutputFormat : std::uint8_t { kHuman, kJson };

const char* scenario_name(Scenario scenario);

struct BenchOptions {
  Scenario scenario = Scenario::kEcho;
  std::string url;
  std::string publish_url;                // pubsub: the publisher's server, another node of a cluster (empty: url)
  std::uint32_t connections = 100;        // -c: echo connections, broadcast subscribers, connect target
  std::uint32_t inflight = 1;             // -p / --inflight: messages in flight per echo connection / publisher
  std::uint32_t payload_size = 32;        // -s: bytes per message (>= 8: the timestamp)
  std::uint32_t channels = 1;             // pubsub: subscribers spread over this many channels
  std::string channel = "bench.recover";  // recover: the channel (its namespace must keep a stream)
  std::uint32_t recover = 100;            // recover: publications each subscriber recovers
  std::uint32_t storms = 5;               // recover: how many times all subscribers recover at once
  PayloadKind payload_kind = PayloadKind::kText;
  double duration_s = 10;              // echo/broadcast measurement window
  double hold_s = 10;                  // connect: idle time once all are open
  std::uint32_t threads = 1;           // one epoll loop each
  std::uint32_t concurrency = 200;     // handshakes in progress at once (all threads)
  double handshake_timeout_s = 10;     // connect start -> 101 validated
  std::int64_t server_pid = 0;         // read this process's VmRSS and CPU time (0: don't)
  std::uint32_t source_addresses = 0;  // 0: automatic (loopback and many connections)
  std::vector<std::string> headers;    // extra request headers, "Name: value"
  std::string subprotocol;             // Sec-WebSocket-Protocol to ask for (empty: none)
  std::string ca_file;                 // wss://: PEM CAs to trust (empty: the system's)
  OutputFormat output = OutputFormat::kHuman;
};

// Limits enforced by validate_options().
inline constexpr std::uint32_t kMaxInflight = 4096;
inline constexpr std::uint32_t kMaxChannels = 100'000;
inline constexpr std::uint32_t kMaxPayloadSize = 16u << 20;
inline constexpr std::uint32_t kMaxThreads = 64;
inline constexpr std::uint32_t kMaxSourceAddresses = 250;
inline constexpr std::uint32_t kMaxRecover = 1'000'000;
inline constexpr std::uint32_t kMaxStorms = 1000;

// Success when the options make a runnable benchmark, else a one-line
// reason (printed as is). Checks the URL syntax too, not that the host
// resolves.
base::Result<void> validate_options(const BenchOptions& options);

}  // namespace switchboard::bench
