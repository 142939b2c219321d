// The messaging service on top of the WebSocket server: protocol v1
// (docs/PROTOCOL.md) over the subprotocol `switchboard.v1.json`, with a
// connection registry (users -> their connections), pub/sub channels,
// request/response (rpc) answered by C++ handlers, direct messages to a
// user, presence with join/leave events, and an application-level ping.
//
//   switchboard::Hub hub(hub_config);
//   hub.on_rpc("getUser", [](const switchboard::RpcCall& call, switchboard::RpcReply reply) {
//     reply.ok(R"({"name":"Ada"})");
//   });
//   switchboard::Server server(server_config, hub);
//   server.run();
//
// Threading: configure (on_rpc, set_authenticator) before Server::start();
// publish, send_to_user and stats may be called from any thread after it.
// A Hub serves one Server, and must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/server.h"

namespace switchboard {
namespace hub {
class HttpApi;
class Node;
}  // namespace hub

// Options for the channels whose name matches `pattern`: "chat:*" matches
// every channel in namespace "chat" ("chat:lobby"); "news" matches exactly
// "news"; "*" matches every channel. The first matching entry of
// HubConfig::namespaces applies; channels that match none get
// HubConfig::default_namespace.
// What happens to a subscriber whose outgoing buffer is full
// (ServerConfig::max_buffered_bytes) when a message for it arrives. Events
// (join/leave) of the channel follow the same policy as its messages.
enum class SlowConsumerPolicy : std::uint8_t {
  kDisconnect,  // close 1013 "slow consumer": it reconnects and starts afresh
  kDrop,        // skip this message for that subscriber (the newest is lost)
  // Hold the channel's messages for that subscriber, at most
  // slow_consumer_backlog of them, dropping the oldest to make room; what is
  // held is sent, in order, once its buffer has drained. Also bounded in
  // bytes (HubConfig::max_held_bytes_per_connection, max_held_bytes).
  kDropOldest,
  // The same with room for one: the subscriber gets the channel's latest
  // message once it catches up (a price ticker, a cursor position).
  kKeepLatest,
};

struct NamespaceOptions {
  std::string pattern;
  bool presence = false;       // members can be listed with `presence`
  bool join_leave = false;     // subscribers get join/leave events (needs presence)
  bool client_publish = true;  // clients may publish (the C++ API always may)
  SlowConsumerPolicy slow_consumer = SlowConsumerPolicy::kDisconnect;
  std::uint32_t slow_consumer_backlog = 100;  // kDropOldest: messages held per subscriber and channel
  // Publishes a second each connection may make to this namespace's
  // channels (0: only HubConfig::limits apply), and the burst allowed
  // (0: one second's worth). Refused publishes get error 121 and count as
  // rate-limit violations.
  std::uint64_t publish_per_s = 0;
  std::uint64_t publish_burst = 0;
  // Both > 0: every channel of the namespace has a stream that keeps its
  // last history_size publications for history_ttl_s seconds, for recovery
  // on subscribe and `history` (docs/PROTOCOL.md "Streams"); its messages
  // and replies carry offsets under an epoch.
  std::uint64_t history_size = 0;
  std::uint64_t history_ttl_s = 0;
  // The most publications one recovery sends; past that the subscriber
  // gets recovered:false and reloads (0: history_size).
  std::uint64_t recover_limit = 0;
  // Every subscribe reply carries the newest kept publication (`latest`):
  // the channel's current state (needs history).
  bool cache = false;
  bool keeps_history() const { return history_size > 0 && history_ttl_s > 0; }
};

// Token (JWT) authentication (docs/PROTOCOL.md "Authentication"). Keys are
// given as their contents; the program reads the files. With no key, tokens
// are not checked (and a client that sends one gets error 117).
struct AuthConfig {
  bool required = false;    // without a valid token a connection may only `connect`
  std::string hmac_secret;  // key for tokens without a kid (>= 32 bytes for HS256)
  std::string hmac_algorithm = "HS256";
  std::string public_key_pem;  // key for tokens without a kid (instead of the secret)
  std::string public_key_algorithm = "RS256";
  std::string jwks_json;  // keys by kid: {"keys":[...]}
  std::string issuer;     // "" = not checked
  std::string audience;   // "" = not checked
  std::uint64_t leeway_s = 5;
  // Refuse a token without exp (it would never expire).
  bool require_exp = true;
  // auth.required and no token at the upgrade: `connect` must come in time (else close 4003).
  std::uint64_t connect_timeout_ms = 10'000;
  // After the token's exp the client is asked to `refresh`; without a fresh token in time: close 4002.
  std::uint64_t refresh_grace_ms = 30'000;
  bool enabled() const { return !hmac_secret.empty() || !public_key_pem.empty() || !jwks_json.empty(); }
};

// Per-connection token buckets over everything a client sends. Past one, the
// command gets error 121 and is not run; a client that keeps going past
// `violations_per_s` (burst `violations_burst`) is closed with 1008. A
// WebSocket ping counts as a message (and its payload as bytes): past the
// limit it goes unanswered and counts as a violation.
struct RateLimitConfig {
  std::uint64_t messages_per_s = 1000;  // 0: no message limit
  std::uint64_t messages_burst = 2000;
  std::uint64_t bytes_per_s = 4u << 20;  // 0: no byte limit
  std::uint64_t bytes_burst = 8u << 20;  // a larger message is counted as this many bytes
  std::uint64_t violations_per_s = 1;
  std::uint64_t violations_burst = 50;
  // `send` to a user, per connection (0: no limit): over it, error 121.
  std::uint64_t sends_per_s = 10;
  std::uint64_t sends_burst = 50;
};

// Who may `send` to a user (docs/PROTOCOL.md "Direct messages"). Whatever
// this says, a connection whose Principal (or token claim `send_to`) lists
// users may send to those only.
enum class SendPermission : std::uint8_t {
  kAnyone,         // every connection, anonymous ones too
  kAuthenticated,  // connections with a user that a token or the authenticator vouched for
  kListedUsers,    // only to the users the connection's send_to lists; none without one
};

struct HubConfig {
  std::vector<NamespaceOptions> namespaces;
  NamespaceOptions default_namespace;
  std::size_t max_subscriptions_per_connection = 128;
  // Bytes of frames held for slow consumers (kDropOldest, kKeepLatest), per
  // connection (0: twice ServerConfig::max_buffered_bytes) and for the node.
  // Past either the connection's oldest held frames are pushed out; a frame
  // that still cannot be held closes it 1013 "slow consumer".
  std::uint64_t max_held_bytes_per_connection = 0;
  std::uint64_t max_held_bytes = 256u << 20;
  // Bytes the channels' streams (history) may hold in the node's memory
  // (memory broker), all channels together. Past it, the channel that
  // publishes drops its own oldest publications (a recovery from them then
  // fails whole, never silently), so an idle channel keeps its past and the
  // node its memory.
  std::uint64_t max_history_bytes = 256u << 20;
  std::uint64_t rpc_timeout_ms = 10'000;  // then the client gets error 114
  // rpcs waiting for their answer: per connection, and on the whole node by
  // count and by request bytes (the `data` and method of each call, which
  // the handler or the HTTP backend holds until it answers). A call over a
  // cap gets error 122 at once. A call of a connection that left still
  // counts on the node until it is answered or times out.
  std::size_t max_pending_rpcs_per_connection = 128;
  std::uint64_t max_pending_rpcs = 4096;
  std::uint64_t max_pending_rpc_bytes = 64u << 20;
  // The largest rpc answer (its JSON) sent to a client; a larger one is
  // error 115 instead (RpcReply::fail_too_large).
  std::uint64_t max_rpc_answer_size = 1u << 20;
  SendPermission send_permission = SendPermission::kAuthenticated;
  // The reply to a client's `send` is {} instead of {"online": ...}: clients
  // cannot probe who is connected. The HTTP API still says.
  bool hide_online = false;
  // Refuse (HTTP 400) a WebSocket that does not ask for switchboard.v1.json.
  bool require_subprotocol = true;
  AuthConfig auth;
  RateLimitConfig limits;
  // memory:// (one node) or redis://[[user]:password@]host[:port][/db]
  // (several nodes share channels through Redis; docs/SCALING.md).
  std::string broker_url = "memory://";
  // broker_url is one node of a Redis Cluster: find its masters at start
  // (CLUSTER SLOTS) and use sharded pub/sub.
  bool broker_cluster = false;
  // rediss:// (TLS to Redis): the CAs to verify the server with (PEM; empty:
  // the system's), and a client certificate and key if Redis asks for one.
  std::string broker_tls_ca_file;
  std::string broker_tls_cert_file;
  std::string broker_tls_key_file;
  // Redis: a node's presence entries vanish this long after it stops
  // refreshing them (a crash); refreshed every third of it.
  std::uint64_t presence_ttl_ms = 30'000;
};

// Who a connection is. An empty user is an anonymous connection.
struct Principal {
  std::string user;
  std::string info_json;  // shown to others in presence and join events; "" = null
  // Channel patterns ("chat:*", "news", "*") this connection may subscribe
  // and publish to; nullopt: every channel its namespace allows. Personal
  // ("x#user") and private ("$x") channels have their own rules on top.
  std::optional<std::vector<std::string>> channels;
  std::int64_t expires_at = 0;  // seconds since the epoch; 0: never
  // The users this connection may `send` to (the token claim `send_to`);
  // nullopt: as HubConfig::send_permission allows.
  std::optional<std::vector<std::string>> send_to;
};

// Decides who a handshake is: a Principal (user may be empty), or nullopt
// to refuse it with HTTP 401. Runs on the worker thread, before the 101.
// Asked only when the handshake carries no token (or the hub has no keys):
// a token is always checked as a connection token first. With
// auth.required, an anonymous Principal still has to send `connect` with a
// token.
using Authenticator = std::function<std::optional<Principal>(const HttpRequest& request)>;

struct RpcCall {
  std::string_view user;  // empty: anonymous
  std::string_view client;
  std::string_view method;
  std::string_view data_json;  // "null" when the client sent no data
};

// The answer to one rpc. Copyable; call ok() or fail() once, from any
// thread, now or later. An answer that comes after the timeout, or after the
// client left, is dropped.
class RpcReply {
 public:
  void ok(std::string data_json) const;
  void fail(std::string message) const;
  // The answer would be over HubConfig::max_rpc_answer_size: the client gets
  // error 115 saying so, as it does when ok() is given such an answer. For a
  // handler that reads its answer from elsewhere and stops at the limit
  // rather than hold it all (the HTTP proxy).
  void fail_too_large() const;

 private:
  // Made by the hub for each call (hub::Node::rpc_reply).
  friend class hub::Node;
  struct Target;
  explicit RpcReply(std::shared_ptr<Target> target) : target_(std::move(target)) {}

  std::shared_ptr<Target> target_;
};

using RpcHandler = std::function<void(const RpcCall& call, RpcReply reply)>;

struct HubStats {
  std::size_t connections = 0;  // open protocol connections
  std::size_t users = 0;        // distinct users with at least one connection
  std::size_t channels = 0;     // channels with at least one subscriber
};

class Hub final : public WebSocketHandler {
 public:
  explicit Hub(HubConfig config = {});
  ~Hub() override;
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  void on_rpc(std::string method, RpcHandler handler);
  // For every method without a handler of its own (the HTTP rpc proxy).
  void on_any_rpc(RpcHandler handler);
  void set_authenticator(Authenticator authenticator);

  // Any thread, after start. data_json must be valid JSON.
  void publish(std::string channel, std::string data_json);
  void send_to_user(std::string user, std::string data_json);
  // To every open protocol connection, as a `direct` message from null.
  void broadcast(std::string data_json);
  HubStats stats() const;

  // Any thread, after start: takes config's auth (keys, issuer, audience,
  // leeway, required, require_exp) and namespaces without dropping a
  // connection (SIGHUP in `switchboard serve`). "" or why nothing changed:
  // unusable keys, or a change that would check tokens less (auth.required
  // or require_exp switched off, every key removed, issuer or audience no
  // longer checked), which takes a new Hub: a restart.
  // Namespace options apply to subscriptions made from then on.
  std::string reload(const HubConfig& config);

  // The hub's HTTP routes (call before Server::start()): GET /metrics
  // (Prometheus), GET /readyz (503 while draining; a health route, answered
  // past the admission caps), and the API under /api/
  // (docs/HTTP_API.md) for backends that hold api_key (empty: no API).
  void add_routes(Server& server, std::string api_key);
  // What GET /metrics shows (Prometheus text format 0.0.4).
  std::string metrics_text() const;

  // WebSocketHandler.
  void on_start(Server& server) override;
  void on_stop(Server& server) override;
  void on_draining(Server& server) override;
  GoingAway on_going_away(Connection& connection, std::uint64_t answer_within_ms) override;
  UpgradeDecision on_upgrade(const HttpRequest& request, std::span<const std::string_view> offered) override;
  void on_open(Connection& connection, const HttpRequest& request) override;
  void on_message(Connection& connection, std::string_view payload, Opcode opcode) override;
  PingReply on_ping(Connection& connection, std::string_view payload) override;
  void on_close(Connection& connection, CloseCode code, std::string_view reason) override;
  void on_drain(Connection& connection) override;

 private:
  // Shared with the tasks it posts, which keep it alive until they have run.
  std::shared_ptr<hub::Node> node_;
  std::unique_ptr<hub::HttpApi> http_api_;
};

}  // namespace switchboard
