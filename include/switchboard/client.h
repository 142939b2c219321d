// The C++ client of protocol v1 (docs/PROTOCOL.md): one WebSocket to a
// `switchboard serve` node, with reconnection (exponential backoff with
// jitter), heartbeats, requests answered by id, an offline queue and
// subscriptions restored after every reconnect.
//
//   switchboard::Client client({.token = "..."});
//   client.connect("ws://127.0.0.1:8080/");
//   auto lobby = client.subscribe("chat:lobby", {.on_message = [](std::string_view data, std::uint64_t) {
//     std::printf("%.*s\n", int(data.size()), data.data());
//   }});
//   switchboard::Result reply = client.publish("chat:lobby", R"({"text":"hi"})").get();
//
// On a channel with a stream (history), a subscription keeps its position
// {epoch, offset}; after a reconnect it re-subscribes with recovery, so
// on_message sees every offset once and in order, or on_recovery_failed
// says that some were lost.
//
// Threading: a Client runs its own EventLoop on a thread of its own,
// started by the constructor and joined by the destructor. Every public
// method (of Client and Subscription) may be called from any thread: it
// hops into the loop (the *InLoop pattern) and returns at once. Every
// callback (ClientOptions, SubscriptionHandlers, ResultCallback) runs on the
// client's loop thread, one at a time, never under a lock of ours: a
// callback may call any public method, but must not block for long (it
// holds up the connection) and must not destroy the Client (nor wait on a
// future of it: the answer would have to come from the very thread that
// waits). Futures are to be waited on from other threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {
namespace client {
class Core;
struct SubscriptionRecord;
}  // namespace client

enum class ClientState : std::uint8_t {
  kConnecting,    // TCP connect, upgrade, or waiting for the `connect` reply
  kConnected,     // the `connect` reply came: commands flow
  kDisconnected,  // not connected; a reconnect is scheduled (or connect() was not called yet)
  kClosed,        // final: close(), the server said not to come back, or it refused the upgrade (400/401/403/404)
};
const char* to_string(ClientState state);

enum class ClientErrorKind : std::uint8_t {
  kServer,           // the server answered `error`: code and message are its
  kTimeout,          // no answer within the request's timeout (counted from sending)
  kDisconnected,     // sent, and the connection dropped before the answer (never re-sent; after a drain's
                     // `disconnect` with answered: true such requests were not run, and are re-sent instead)
  kQueueFull,        // max_queued commands already wait for a connection
  kClosed,           // the client is closed (close(), or a final close by the server)
  kInvalidArgument,  // refused before queuing: data is not JSON, a name is empty or not UTF-8, ...
  kConnection,       // on_error only: a connect attempt or a connection failed (message says how)
};
const char* to_string(ClientErrorKind kind);

struct ClientError {
  ClientErrorKind kind = ClientErrorKind::kConnection;
  int code = 0;  // kServer: the protocol's error code (docs/PROTOCOL.md); a close code for kConnection, or 0
  std::string message;
};

// Who a publish reached.
enum class Reach : std::uint8_t {
  kEverywhere,  // every node's subscribers (or the request was not a publish)
  // The broker (Redis) was down: only this node's subscribers got it, no
  // other node's, and no stream numbered it (the reply's offset is 0).
  kLocalOnly,
};

// The answer to a request: the reply's `data` as JSON text, or an error.
class Result {
 public:
  static Result success(std::string data_json, Reach reach = Reach::kEverywhere) {
    return Result(std::move(data_json), reach);
  }
  static Result failure(ClientError error) { return Result(std::move(error)); }

  bool ok() const { return !error_.has_value(); }
  // The reply's data (compact JSON), when ok(); "" otherwise.
  const std::string& data() const { return data_; }
  // The error, when !ok().
  const ClientError& error() const { return *error_; }
  // A publish that succeeded: kLocalOnly when the server answered
  // "local_only" (a partial success: check it where it matters).
  Reach reach() const { return reach_; }

 private:
  Result(std::string data, Reach reach) : data_(std::move(data)), reach_(reach) {}
  explicit Result(ClientError error) : error_(std::move(error)) {}
  std::string data_;
  std::optional<ClientError> error_;
  Reach reach_ = Reach::kEverywhere;
};

using ResultCallback = std::function<void(const Result&)>;

enum class ExcludeSelf : std::uint8_t { kNo, kYes };

struct RequestOptions {
  std::uint64_t timeout_ms = 0;                 // 0: ClientOptions::request_timeout_ms
  ExcludeSelf exclude_self = ExcludeSelf::kNo;  // publish only: not delivered to this connection
};

// A place in a channel's stream (a namespace with history_size and
// history_ttl): the offset of the last publication seen under the stream's
// epoch. An epoch changes when the stream's past may have been lost (a node
// restart with the memory broker): offsets of different epochs do not
// compare.
struct StreamPosition {
  std::string epoch;
  std::uint64_t offset = 0;
  bool operator==(const StreamPosition&) const = default;
};

// One publication of a stream.
struct Publication {
  std::uint64_t offset = 0;
  std::string data_json;
};

enum class HistoryOrder : std::uint8_t {
  kOldestFirst,  // ascending offsets
  kNewestFirst,  // the protocol's reverse:true
};

struct HistoryOptions {
  // At most this many publications; nullopt: every one kept.
  std::optional<std::uint64_t> limit;
  // Those after since.offset (kNewestFirst: before it); nullopt: from the
  // oldest (kNewestFirst: the newest). An epoch that differs, or a position
  // no longer kept, is error 124.
  std::optional<StreamPosition> since;
  HistoryOrder order = HistoryOrder::kOldestFirst;
  std::uint64_t timeout_ms = 0;  // 0: ClientOptions::request_timeout_ms
};

// A `join` or `leave` of a channel with join_leave events.
struct PresenceEvent {
  std::string channel;
  std::optional<std::string> user;  // nullopt: anonymous
  std::string client;
  std::string info_json;  // join only: the member's info ("null" when none)
};

// What the client tells about its connection, with each state change.
struct StateChange {
  ClientState state = ClientState::kDisconnected;
  std::string reason;                    // why (kDisconnected, kClosed): "connection refused", "close 1001 ..."
  std::uint16_t close_code = 0;          // the server's close code, when it sent one
  std::uint64_t reconnect_delay_ms = 0;  // kDisconnected: when the next attempt starts
  std::uint32_t attempt = 0;             // kDisconnected: attempts since the last stable connection
  std::string client_id;                 // kConnected: the server's id for this connection
  std::optional<std::string> user;       // kConnected: the user, nullopt when anonymous
};

struct ClientOptions {
  // The connection token, sent in the first `connect` command (never in the
  // URL). With token_provider set, the provider wins.
  std::string token;
  // Called on the loop thread before every connect attempt and when the
  // server asks for a refresh; returns the token ("" for none). It may
  // block (nothing else happens on the connection meanwhile); an exception
  // fails the attempt (reconnect with backoff). A client with a provider
  // reconnects after close 4002 (token expired); one with a static token
  // does not.
  std::function<std::string()> token_provider;
  // Extra "Name: value" lines for the upgrade request (checked by connect()).
  std::vector<std::string> headers;

  // Reconnect delay before attempt n (n = 0 after a stable connection):
  // cap = min(max_delay_ms, min_delay_ms * factor^n),
  // delay = cap * (1 - jitter * random[0, 1)); jitter 1 is "full jitter".
  // An upgrade answered 429 or 503 with Retry-After waits at least that.
  // A connect refused (ECONNREFUSED: the node is restarting, nothing
  // listens yet) caps the delay at refused_max_delay_ms instead (still
  // jittered; 0: no such cap), so the client is back within about that
  // long of the server listening again. A drain (`disconnect` with
  // reconnect: true) is no failure: n does not grow, and its delay is n = 0's.
  std::uint64_t min_delay_ms = 500;
  std::uint64_t max_delay_ms = 20'000;
  std::uint64_t refused_max_delay_ms = 1000;
  double factor = 2.0;
  double jitter = 1.0;
  // n goes back to 0 once a connection has stayed connected this long.
  std::uint64_t stable_after_ms = 5'000;
  // false: the first connection loss (or failed attempt) is final.
  bool reconnect = true;

  // The protocol's `ping` every ping_interval_ms while connected; when
  // nothing at all arrives within pong_timeout_ms of a ping, the connection
  // is taken for dead (half-open TCP) and replaced. 0: no pings.
  std::uint64_t ping_interval_ms = 25'000;
  std::uint64_t pong_timeout_ms = 10'000;
  // TCP connect + (TLS) + upgrade + the `connect` reply.
  std::uint64_t connect_timeout_ms = 10'000;
  // Default timeout of a request, counted from when it is sent.
  std::uint64_t request_timeout_ms = 10'000;
  // Requests waiting for a connection; more fail at once with kQueueFull.
  std::size_t max_queued = 1000;
  // Largest message accepted from the server (bytes); more fails the connection.
  std::uint64_t max_message_size = 64u << 20;
  // wss://: PEM file of the CAs to trust ("" : the system's).
  std::string tls_ca_file;

  // Every state change.
  std::function<void(const StateChange&)> on_state;
  // Connection-level problems (failed attempts, lost connections, an
  // invalid token: error 120 as kServer), and errors the server sent with
  // no id. Request errors go to the request's callback instead.
  std::function<void(const ClientError&)> on_error;
  // A `direct` message: from is the sender (nullopt: anonymous or the server).
  std::function<void(const std::optional<std::string>& from, std::string_view data_json)> on_direct;
};

enum class SubscriptionState : std::uint8_t {
  kSubscribing,   // waiting for the subscribe reply (or for a connection)
  kSubscribed,    // in place: messages arrive
  kUnsubscribed,  // unsubscribe() was called, or the client closed
  kFailed,        // the server refused it (on_error said why); not retried
};
const char* to_string(SubscriptionState state);

// What a subscribe reply said (on_subscribed, on_recovery_failed).
struct SubscribedInfo {
  // The channel keeps a stream: offsets are contiguous and the subscription
  // is recovered after a reconnect. false: offsets are 0 or per-node
  // counters, and what is missed while disconnected is lost.
  bool recoverable = false;
  // This subscribe asked for recovery (recover + since): a re-subscribe
  // after a reconnect once a position was known, or SubscribeOptions::since.
  bool was_recovering = false;
  // on_recovery_failed only: no subscribe reply but the server's `reset`
  // while subscribed (the stream's past is lost for this subscription: its
  // epoch changed, or the node missed publications it could not recover).
  // was_recovering and recovered are false; epoch and offset are the new
  // position: the next message has a greater offset.
  bool reset = false;
  // ... and got every publication missed; they are delivered to on_message,
  // in order, right after on_subscribed and before any live message.
  bool recovered = false;
  std::size_t recovered_count = 0;  // how many of them
  // The stream's epoch and its last offset when the subscription took
  // effect (the next live message is offset + 1), when recoverable.
  std::string epoch;
  std::uint64_t offset = 0;
  // SubscribeOptions::latest (or a `cache` namespace): the newest kept
  // publication, nullopt when none. Not passed to on_message.
  std::optional<Publication> latest;
};

struct SubscriptionHandlers {
  // A publication: data and its offset in the channel. On a stream, each
  // offset comes once and in order (a duplicate after a recovery is
  // dropped); gaps only under the server's drop policy for slow consumers,
  // or after on_recovery_failed. Offset 0 on a stream is a publication the
  // server could not number (its broker was unreachable): always delivered,
  // never taken for a duplicate, not part of the position.
  std::function<void(std::string_view data_json, std::uint64_t offset)> on_message;
  std::function<void(const PresenceEvent&)> on_join;
  std::function<void(const PresenceEvent&)> on_leave;
  // The subscription is in place: after the first subscribe and after each
  // re-subscribe following a reconnect.
  std::function<void(const SubscribedInfo&)> on_subscribed;
  // A recovery failed (was_recovering && !recovered): publications were
  // missed and are not coming (the epoch changed, they were trimmed, or more
  // than the namespace's recover_limit). Reload the state from elsewhere
  // (history(), the application's own API). Called right before
  // on_subscribed; the position is now the reply's.
  // Also called alone, with info.reset, when the server resets a
  // subscription in place (same meaning: reload; the subscription stays
  // and the position is now the reset's).
  std::function<void(const SubscribedInfo&)> on_recovery_failed;
  // The subscribe was refused (state kFailed) or invalid.
  std::function<void(const ClientError&)> on_error;
};

enum class Latest : std::uint8_t { kNo, kYes };

struct SubscribeOptions {
  // A subscription token for a private ($) channel.
  std::string token;
  // Ask for the newest kept publication in the reply (SubscribedInfo::latest).
  Latest latest = Latest::kNo;
  // Recover from this position on the first subscribe (one the application
  // kept from an earlier SubscribedInfo and on_message offsets); later
  // re-subscribes recover from the subscription's own position.
  std::optional<StreamPosition> since;
};

// A handle on one subscription; copies share it. Dropping every handle
// does not unsubscribe (the subscription lives in the client until
// unsubscribe() or close()).
class Subscription {
 public:
  Subscription() = default;
  explicit operator bool() const { return record_ != nullptr; }
  const std::string& channel() const;
  SubscriptionState state() const;
  // Any thread; idempotent. No handler of this subscription runs once the
  // loop has taken the unsubscribe (handlers already running finish).
  void unsubscribe();

 private:
  friend class Client;
  explicit Subscription(std::shared_ptr<client::SubscriptionRecord> record) : record_(std::move(record)) {}
  std::shared_ptr<client::SubscriptionRecord> record_;
};

class Client {
 public:
  // Starts the loop thread; does not connect.
  explicit Client(ClientOptions options = {});
  // close(), then joins the loop thread. Never from one of its callbacks.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts connecting to url (ws:// or wss://; the subprotocol
  // switchboard.v1.json is asked for). "" when started, else why not (a
  // bad URL or header, a TLS setup error, already started, closed).
  std::string connect(std::string_view url);
  // Final: closes the connection (close 1000), fails every queued and
  // in-flight request with kClosed, ends every subscription.
  void close();

  ClientState state() const;
  // Blocks until the client is connected (true) or closed, or timeout_ms
  // passed (false).
  bool wait_connected(std::uint64_t timeout_ms);

  // Subscribes to channel; the subscription is restored after every
  // reconnect, and on a channel with a stream recovered from the last
  // offset it saw (SubscribedInfo). Subscribing to a channel this client
  // already has fails the new one (kInvalidArgument).
  Subscription subscribe(std::string channel, SubscriptionHandlers handlers, SubscribeOptions options = {});
  // token: a subscription token for a private ($) channel.
  Subscription subscribe(std::string channel, SubscriptionHandlers handlers, std::string token);

  // Requests: each gets exactly one answer, through the callback (on the
  // loop thread) or the future. data_json must be one JSON value.
  void publish(std::string channel, std::string data_json, RequestOptions options, ResultCallback done);
  std::future<Result> publish(std::string channel, std::string data_json, RequestOptions options = {});
  // data_json "" sends no data (the handler gets null).
  void rpc(std::string method, std::string data_json, RequestOptions options, ResultCallback done);
  std::future<Result> rpc(std::string method, std::string data_json = {}, RequestOptions options = {});
  void send(std::string user, std::string data_json, RequestOptions options, ResultCallback done);
  std::future<Result> send(std::string user, std::string data_json, RequestOptions options = {});
  void presence(std::string channel, RequestOptions options, ResultCallback done);
  std::future<Result> presence(std::string channel, RequestOptions options = {});
  // A channel's kept publications: the answer's data is
  // {"epoch":"E","offset":TOP,"publications":[{"offset":K,"data":...},...]}.
  // Errors: 123 the namespace keeps no history, 124 since is no longer kept
  // (or its epoch differs), 109 not allowed.
  void history(std::string channel, HistoryOptions options, ResultCallback done);
  std::future<Result> history(std::string channel, HistoryOptions options = {});
  // The protocol's ping; the answer's data is "{}".
  void ping(RequestOptions options, ResultCallback done);
  std::future<Result> ping(RequestOptions options = {});

 private:
  void refuse(ResultCallback done, std::string message);
  std::shared_ptr<client::Core> core_;
};

}  // namespace switchboard
