// What the hub counts, for GET /metrics (docs/OPERATIONS.md lists every
// series). Registered once, when the Hub is made; the members are plain
// references that the message paths bump without touching the registry
// (sharded relaxed atomics: no lock, no shared cache line between workers).
#pragma once

#include <array>
#include <cstdint>

#include "metrics/registry.h"
#include "protocol/command.h"
#include "switchboard/frame.h"

namespace switchboard::hub {

inline constexpr std::size_t kCommandTypeCount = 10;  // CommandType's enumerators

struct HubMetrics {
  explicit HubMetrics(metrics::Registry& registry);

  // In: what clients send.
  std::array<metrics::Counter*, kCommandTypeCount> commands{};  // by CommandType
  metrics::Counter& invalid_commands;                           // answered with an error before they ran
  metrics::Counter& bytes_received;
  // Out: frames handed to connections by the fan-out (messages, join/leave,
  // direct), and their bytes.
  metrics::Counter& messages_delivered;
  metrics::Counter& bytes_delivered;
  metrics::Histogram& delivery_latency;  // owner numbered it -> handed to the subscribers' sockets
  // Refusals and losses.
  metrics::Counter& tokens_rejected;
  metrics::Counter& permission_denied;
  metrics::Counter& rate_limited;
  metrics::Counter& rate_limit_closes;
  metrics::Counter& rpcs_refused_per_connection;  // error 122: the connection's pending cap
  metrics::Counter& rpcs_refused_per_node;        // error 122: the node's pending cap (count or bytes)
  metrics::Counter& rpc_answers_too_large;        // error 115: over max_rpc_answer_size
  metrics::Counter& slow_consumer_drops;
  metrics::Counter& slow_consumer_held;
  metrics::Counter& slow_consumer_closes;
  // A frame to hold did not fit under a held-bytes cap (HeldFrames).
  metrics::Counter& held_connection_cap_hits;
  metrics::Counter& held_node_cap_hits;
  metrics::Counter& broker_errors;
  // Recovery on subscribe: whole (with or without publications) or not
  // recoverable, and the publications recovered.
  metrics::Counter& recoveries_with_publications;
  metrics::Counter& recoveries_empty;
  metrics::Counter& recoveries_failed;
  metrics::Counter& recovered_publications;
  metrics::Counter& stream_errors;  // stream reads the broker could not answer
  // Live delivery of channels with a stream: gaps read from the stream
  // (catch-ups), the publications they filled in, and the `reset`s sent
  // when a gap could not be filled or the epoch changed.
  metrics::Counter& stream_catch_ups;
  metrics::Counter& stream_gap_publications;
  metrics::Counter& stream_resets;
  // Connections opened and closed, closes grouped by who ended them.
  metrics::Counter& connections_opened;
  metrics::Counter& closes_normal;       // 1000, 1001
  metrics::Counter& closes_abnormal;     // 1006: TCP went away without a close frame
  metrics::Counter& closes_protocol;     // 1002, 1003, 1007, 1009, 1010, 1011
  metrics::Counter& closes_policy;       // 1008, 1013
  metrics::Counter& closes_application;  // 3000-4999 (ours: 4001-4004)

  void count_close(CloseCode code);
};

}  // namespace switchboard::hub
