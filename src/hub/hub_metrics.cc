#include "hub/hub_metrics.h"

#include "metrics/buckets.h"

namespace switchboard::hub {
namespace {

static_assert(static_cast<std::size_t>(protocol::CommandType::kPing) + 1 == kCommandTypeCount,
              "a new command type needs its counter");

metrics::Counter& closes(metrics::Registry& registry, const char* kind) {
  return registry.counter("switchboard_connections_closed_total",
                          "Protocol connections closed, by who or what ended them", {{"kind", kind}});
}

metrics::Counter& refused(metrics::Registry& registry, const char* reason) {
  return registry.counter("switchboard_refused_total", "Commands, tokens and messages refused, by reason",
                          {{"reason", reason}});
}

metrics::Counter& held_cap_hits(metrics::Registry& registry, const char* cap) {
  return registry.counter("switchboard_slow_consumer_cap_hits_total",
                          "Frames to hold for a slow consumer that did not fit under a held-bytes cap, by cap "
                          "(connection, node): its oldest held frames were pushed out, or it was closed 1013",
                          {{"cap", cap}});
}

metrics::Counter& recoveries(metrics::Registry& registry, const char* outcome) {
  return registry.counter("switchboard_recoveries_total",
                          "Subscribes that asked to recover, by outcome: recovered (with publications), "
                          "recovered_empty (nothing missed), failed (the position was gone: the client reloads)",
                          {{"outcome", outcome}});
}

}  // namespace

HubMetrics::HubMetrics(metrics::Registry& registry)
    : invalid_commands(registry.counter("switchboard_invalid_commands_total",
                                        "Client messages that were not a valid v1 command (answered with an error)")),
      bytes_received(registry.counter("switchboard_received_bytes_total", "Bytes of client messages")),
      messages_delivered(
          registry.counter("switchboard_delivered_messages_total",
                           "Frames handed to connections by the fan-out (message, join, leave, direct)")),
      bytes_delivered(registry.counter("switchboard_delivered_bytes_total", "Bytes of those frames")),
      // 50 us .. 1.6 s: a healthy hub is in the first buckets; a saturated
      // one shows up in the last.
      delivery_latency(registry.histogram("switchboard_delivery_latency_seconds",
                                          "Time from a publication's numbering on its channel's owner to its frame "
                                          "being handed to the subscribers' connections on one worker",
                                          metrics::exponential_buckets(50e-6, 2, 16))),
      tokens_rejected(refused(registry, "invalid_token")),
      permission_denied(refused(registry, "permission_denied")),
      rate_limited(refused(registry, "rate_limited")),
      rate_limit_closes(registry.counter("switchboard_rate_limit_closes_total",
                                         "Connections closed with 1008 for staying over the rate limits")),
      rpcs_refused_per_connection(refused(registry, "rpc_pending_per_connection")),
      rpcs_refused_per_node(refused(registry, "rpc_pending_per_node")),
      rpc_answers_too_large(registry.counter("switchboard_rpc_answers_too_large_total",
                                             "rpc answers over hub.max_rpc_answer_size, sent as error 115 instead")),
      slow_consumer_drops(registry.counter("switchboard_slow_consumer_drops_total",
                                           "Frames not delivered because the connection's outgoing buffer was full "
                                           "(policy drop; drop-oldest and keep-latest: held frames pushed out)")),
      slow_consumer_held(registry.counter("switchboard_slow_consumer_held_total",
                                          "Frames held for a connection with a full outgoing buffer until it "
                                          "drained (policies drop-oldest and keep-latest)")),
      slow_consumer_closes(registry.counter("switchboard_slow_consumer_closes_total",
                                            "Connections closed with 1013 because their outgoing buffer was full "
                                            "(namespace policy disconnect, or a frame that no held-bytes cap "
                                            "left room for)")),
      held_connection_cap_hits(held_cap_hits(registry, "connection")),
      held_node_cap_hits(held_cap_hits(registry, "node")),
      broker_errors(registry.counter("switchboard_broker_errors_total", "Publishes the broker could not take")),
      recoveries_with_publications(recoveries(registry, "recovered")),
      recoveries_empty(recoveries(registry, "recovered_empty")),
      recoveries_failed(recoveries(registry, "failed")),
      recovered_publications(registry.counter("switchboard_recovered_publications_total",
                                              "Publications sent in subscribe replies by recoveries")),
      stream_errors(registry.counter("switchboard_stream_errors_total",
                                     "Reads of a channel's stream (recovery, history) the broker could not answer")),
      stream_catch_ups(registry.counter("switchboard_stream_catch_ups_total",
                                        "Reads of a channel's stream after a gap in its live publications, or after "
                                        "the broker's link came back")),
      stream_gap_publications(registry.counter("switchboard_stream_gap_publications_total",
                                               "Publications a catch-up read filled in before the live ones")),
      stream_resets(registry.counter("switchboard_stream_resets_total",
                                     "`reset` messages fanned out: the stream's epoch changed, or a gap could not "
                                     "be filled")),
      connections_opened(registry.counter("switchboard_connections_opened_total", "Protocol connections opened")),
      closes_normal(closes(registry, "normal")),
      closes_abnormal(closes(registry, "abnormal")),
      closes_protocol(closes(registry, "protocol")),
      closes_policy(closes(registry, "policy")),
      closes_application(closes(registry, "application")) {
  for (std::size_t type = 0; type < kCommandTypeCount; ++type) {
    commands[type] = &registry.counter("switchboard_commands_total", "Valid v1 commands received, by type",
                                       {{"type", protocol::command_name(static_cast<protocol::CommandType>(type))}});
  }
}

void HubMetrics::count_close(CloseCode code) {
  const auto value = static_cast<std::uint16_t>(code);
  if (value == 1000 || value == 1001) {
    closes_normal.add();
  } else if (value == 1006) {
    closes_abnormal.add();
  } else if (value == 1008 || value == 1013) {
    closes_policy.add();
  } else if (value >= 3000) {
    closes_application.add();
  } else {
    closes_protocol.add();
  }
}

}  // namespace switchboard::hub
