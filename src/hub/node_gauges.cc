// The gauges GET /metrics reads at scrape time: the workers' counts, the
// rpc and held-bytes budgets, the server's own counts, readiness.
#include <string>

#include "hub/node.h"

namespace switchboard::hub {

void Node::register_gauges() {
  // Summed over the workers of the server running now.
  const auto total = [this](auto count) {
    return [this, count] {
      double sum = 0;
      for (unsigned worker = 0; worker < worker_count(); ++worker) sum += static_cast<double>(count(*workers_[worker]));
      return sum;
    };
  };
  registry.gauge_callback("switchboard_users", "Distinct users with at least one connection", {},
                          total([](const Worker& worker) { return worker.owner.user_count(); }));
  registry.gauge_callback("switchboard_channels", "Channels with at least one subscriber", {},
                          total([](const Worker& worker) { return worker.owner.channel_count(); }));
  registry.gauge_callback("switchboard_subscriptions", "Subscriptions (connection, channel) open", {},
                          total([](const Worker& worker) { return worker.local.subscription_count(); }));
  registry.gauge_callback("switchboard_rpcs_pending", "rpcs waiting for their answer (hub.max_pending_rpcs)", {},
                          [this] { return static_cast<double>(rpc_budget.rpcs()); });
  registry.gauge_callback("switchboard_rpc_pending_bytes",
                          "Request bytes of the rpcs waiting for their answer (hub.max_pending_rpc_bytes)", {},
                          [this] { return static_cast<double>(rpc_budget.bytes()); });
  for (unsigned worker = 0; worker < workers_.size(); ++worker) {
    registry.gauge_callback(
        "switchboard_connections", "Open protocol connections, per worker thread", {{"worker", std::to_string(worker)}},
        [this, worker] {
          // A later server of this hub may have fewer workers.
          return worker < workers_.size() ? static_cast<double>(workers_[worker]->local.connection_count()) : 0.0;
        });
  }
  // The server's own counts; nothing once it is gone (Hub::metrics_text may
  // be called after that).
  registry.gauge_callback("switchboard_tcp_connections", "Sockets open or opening, WebSocket or not", {}, [this] {
    std::lock_guard lock(outside_mutex_);
    return server_ == nullptr || server_gone_ ? 0.0 : static_cast<double>(server_->connection_count());
  });
  const auto refused = [this](std::uint64_t ServerStats::*field) {
    return [this, field] {
      std::lock_guard lock(outside_mutex_);
      return server_ == nullptr || server_gone_ ? 0.0 : static_cast<double>(server_->stats().*field);
    };
  };
  registry.counter_callback("switchboard_admission_refused_total",
                            "Sockets refused before the handshake, by cap (429 per address, 503 new connections)",
                            {{"reason", "per_address"}}, refused(&ServerStats::refused_per_address));
  registry.counter_callback("switchboard_admission_refused_total",
                            "Sockets refused before the handshake, by cap (429 per address, 503 new connections)",
                            {{"reason", "new_connection_rate"}}, refused(&ServerStats::refused_new_connections));
  constexpr const char* kTlsFailuresHelp =
      "TLS handshakes that failed, by reason: plain_http (a plain request on the TLS port, answered 400), closed "
      "(the peer left first), protocol (bad records, no shared version or cipher, an alert), timeout";
  for (const auto& [reason, field] :
       {std::pair{"plain_http", &ServerStats::tls_failed_plain_http},
        std::pair{"closed", &ServerStats::tls_failed_closed}, std::pair{"protocol", &ServerStats::tls_failed_protocol},
        std::pair{"timeout", &ServerStats::tls_failed_timeout}}) {
    registry.counter_callback("switchboard_tls_handshake_failures_total", kTlsFailuresHelp, {{"reason", reason}},
                              refused(field));
  }
  registry.gauge_callback("switchboard_slow_consumer_held_bytes",
                          "Bytes of frames held for slow consumers (drop-oldest, keep-latest), a shared frame "
                          "counted once per connection holding it",
                          {}, [this] { return static_cast<double>(held_budget.held()); });
  registry.gauge_callback("switchboard_history_bytes",
                          "Bytes the streams of channels with history hold in this node's memory (memory broker)", {},
                          [this] { return broker_ == nullptr ? 0.0 : static_cast<double>(broker_->stream_bytes()); });
  registry.gauge_callback(
      "switchboard_history_publications", "Publications the streams hold in this node's memory (memory broker)", {},
      [this] { return broker_ == nullptr ? 0.0 : static_cast<double>(broker_->stream_publications()); });
  registry.counter_callback(
      "switchboard_history_trimmed_total",
      "Publications a stream dropped before their time to keep the node's streams within hub.max_history_bytes", {},
      [this] { return broker_ == nullptr ? 0.0 : static_cast<double>(broker_->stream_trimmed()); });
  registry.gauge_callback("switchboard_ready",
                          "1 while the server accepts connections and its broker is reachable, else 0", {},
                          [this] { return ready() ? 1.0 : 0.0; });
  registry.gauge_callback("switchboard_broker_up", "1 while the broker can carry publications (always, for memory)", {},
                          [this] { return broker_healthy() ? 1.0 : 0.0; });
}

}  // namespace switchboard::hub
