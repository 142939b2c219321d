// The embeddable WebSocket server: N worker threads, each with its own epoll
// loop and SO_REUSEPORT listener; handlers run on the worker that owns the
// connection. See examples/echo_server.cpp for a complete program.
#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchboard/connection.h"
#include "switchboard/frame.h"

namespace switchboard {

namespace loop {
class EventLoop;
}
namespace server {
struct ResponderState;
class ServerConnection;
struct ServerLoops;
}  // namespace server

struct HttpHeader {
  std::string_view name;
  std::string_view value;
};

// The client's HTTP request: the opening handshake of a WebSocket, or a
// plain request to a route. Views are valid only during the callback.
struct HttpRequest {
  std::string_view method;
  std::string_view target;  // path and query, as sent
  std::string_view path;    // without the query
  std::span<const HttpHeader> headers;
  std::string_view peer_address;
  // A plain request's content: the Content-Length bytes after the head (at
  // most ServerConfig::max_body_size); empty without Content-Length, and
  // always for a WebSocket upgrade (which may not have a body).
  std::string_view body;
  // Over TLS with ServerConfig::tls_client_auth: the subject of the
  // client's certificate, verified against tls_ca_file (RFC 2253, e.g.
  // "CN=device-17,O=Example"); empty without one.
  std::string_view tls_client_subject;
  // In on_open only: the UpgradeDecision::state that on_upgrade returned
  // for this connection (the handler may move from it); null elsewhere.
  std::any* upgrade_state = nullptr;

  // First header with that name (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";  // empty: no Content-Type
  std::string body;
  // Extra header fields, written in this order, e.g. {"Retry-After", "5"}.
  // A name that is not a token, a value with CR, LF or another control
  // character (response splitting), or a field the server writes itself
  // (Content-Length, Content-Type, Connection, Transfer-Encoding) turns the
  // answer into a 500, and a log line names the route.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The answer to one asynchronous HTTP request. Copyable; call respond() once,
// from any thread, now or later (later calls are ignored). A response after
// the connection closed, after the route timeout answered 504, or once the
// Server is being destroyed is dropped.
class HttpResponder {
 public:
  void respond(HttpResponse response) const;

 private:
  friend class server::ServerConnection;  // makes one for each async route call
  explicit HttpResponder(std::shared_ptr<server::ResponderState> state) : state_(std::move(state)) {}
  std::shared_ptr<server::ResponderState> state_;
};

// What on_upgrade decides about a handshake that passed the RFC 6455 checks.
struct UpgradeDecision {
  int reject_status = 0;  // 0 accepts; an HTTP status (401, 403, ...) refuses
  std::string reject_body;
  std::string subprotocol;  // sent as Sec-WebSocket-Protocol when not empty
  // Accepted: what the handler decided about this connection (who it is),
  // kept with the handshake and handed to its on_open, on the same worker
  // (HttpRequest::upgrade_state). Empty by default.
  std::any state;
};

class Server;

// Whether the server answers a peer's ping with its pong (RFC 6455 §5.5.2).
enum class PingReply : std::uint8_t {
  kPong,    // answer it
  kIgnore,  // leave it unanswered: the handler's rate limit refused it
};

// Who closes a connection the drain is closing (on_going_away).
enum class GoingAway : std::uint8_t {
  kCloseNow,        // the drain closes it 1001 now
  kHandlerCloses,   // the handler closes it itself, within the bound it was given
};

class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;

  // Before the 101 answer, after the protocol checks and the origin
  // allow-list. `offered` are the client's Sec-WebSocket-Protocol values in
  // its order. Default: accept, choosing no subprotocol.
  virtual UpgradeDecision on_upgrade(const HttpRequest& request, std::span<const std::string_view> offered);

  virtual void on_open(Connection& connection, const HttpRequest& request);
  // A whole message (text already validated as UTF-8). The view is valid
  // until this returns.
  virtual void on_message(Connection& connection, std::string_view payload, Opcode opcode) = 0;
  // Once per opened connection: code is the peer's close code, ours (a
  // violation we closed for, or a close we started that the peer did not
  // answer within close_timeout_ms: reason "close handshake timed out"), or
  // kAbnormal (1006) when TCP went away without a close handshake.
  virtual void on_close(Connection& connection, CloseCode code, std::string_view reason);
  // A ping from the peer (payload: its 0-125 bytes of application data),
  // before the server answers it. Each pong is a write the peer makes us do,
  // so a handler that rate-limits messages counts pings too: kIgnore leaves
  // this one unanswered, and the handler may close the connection (1008)
  // when the peer keeps going. Default: kPong.
  virtual PingReply on_ping(Connection& connection, std::string_view payload);
  // The outgoing buffer emptied after a send returned kBuffered.
  virtual void on_drain(Connection& connection);
  // Once, in Server::start(), after the workers exist (worker_count() is
  // valid, post() may be called) and before any of them runs.
  virtual void on_start(Server& server);
  // Once, when the drain begins (Server::stop(), SIGTERM), on the thread
  // that started it and before the listeners close: readiness goes false
  // here. Then every open connection gets on_going_away and a close 1001,
  // spread over ServerConfig::drain_spread_ms.
  virtual void on_draining(Server& server);
  // On the connection's worker, when the drain comes to it: the last chance
  // to tell the client why (the Hub sends `disconnect` with reconnect:
  // true). kCloseNow (the default): the drain closes it 1001 "server
  // shutting down" right after. kHandlerCloses: the handler still has
  // answers to send, and closes it itself within answer_within_ms (the
  // drain's share of ServerConfig::drain_answer_ms; 0 means it must close
  // now, so a handler given 0 answers kCloseNow); the drain deadline
  // drops it anyway.
  virtual GoingAway on_going_away(Connection& connection, std::uint64_t answer_within_ms);
  // Once, in ~Server, after the worker threads have ended and before the
  // workers are freed: from then on nothing may call the server's post()
  // from outside its workers (a handler that answers from other threads
  // stops doing so here), and whatever the handler runs on the workers'
  // loops must go now.
  virtual void on_stop(Server& server);
};

enum class HandleSignals : std::uint8_t { kNo, kYes };

// The oldest TLS version a client may use.
enum class TlsVersion : std::uint8_t { k1_2, k1_3 };

// Whether TLS clients present a certificate (mTLS), checked against
// ServerConfig::tls_ca_file.
enum class TlsClientAuth : std::uint8_t {
  kNone,      // not asked for
  kOptional,  // asked for; a client without one is served, one with a bad one is refused
  kRequired,  // a client without a valid one is refused in the handshake
};

struct ServerConfig {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;                      // 0: the kernel picks one; see Server::port()
  unsigned workers = 0;                           // 0: one per core
  std::uint64_t max_message_size = 1u << 20;      // larger: close 1009
  std::size_t max_buffered_bytes = 4u << 20;      // per connection; reading pauses and send() drops past it
  std::uint64_t handshake_timeout_ms = 10'000;    // TCP accept to complete request (head and body): 408
  std::uint64_t ping_interval_ms = 25'000;        // 0 disables server pings
  unsigned missed_pongs_allowed = 2;              // then the peer is dead: TCP is dropped (at most 255)
  std::uint64_t close_timeout_ms = 5'000;         // our close frame to the peer's answer
  std::uint64_t fragment_timeout_ms = 10'000;     // a fragmented message's first to last frame: 1008 (0: none)
  std::uint64_t drain_timeout_ms = 10'000;        // stop(): then the rest is dropped
  std::uint64_t drain_spread_ms = 5'000;          // stop(): 1001 closes spread over this (< drain timeout)
  std::uint64_t drain_notice_ms = 0;              // stop(): on_draining this long before listeners close
  std::uint64_t drain_answer_ms = 2'000;          // stop(): a handler may answer this long before its 1001 (0: none)
  std::size_t max_head_size = 8 * 1024;           // HTTP request head; larger: 431
  std::size_t max_headers = 100;                  // more: 431
  std::size_t max_body_size = 64 * 1024;          // plain request Content-Length; larger: 413
  std::uint64_t route_timeout_ms = 30'000;        // async route's answer; then 504
  std::uint64_t max_connections_per_address = 0;  // live, per client IP; more: 429 (0: no cap)
  std::uint64_t max_new_connections_per_s = 0;    // node-wide; more: 503 + Retry-After (0: no cap)
  std::vector<std::string> allowed_origins;       // empty: any Origin (or none)
  // Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names
  // the client: its address is then the one in HttpRequest::peer_address
  // and the one max_connections_per_address counts. Empty: none.
  std::vector<std::string> trusted_proxies;
  HandleSignals handle_signals = HandleSignals::kYes;  // SIGTERM/SIGINT drain in wait()

  // TLS (https://, wss://), served by the workers themselves: with a
  // certificate, `port` serves TLS, unless tls_port is set: then `port`
  // stays plain and tls_port serves TLS, so one server answers both
  // schemes. start() throws when the files cannot be used.
  std::string tls_cert_file;  // PEM: the certificate, then its chain; empty: no TLS
  std::string tls_key_file;   // PEM: its private key
  TlsVersion tls_min_version = TlsVersion::k1_2;
  std::string tls_ciphers;                // TLS 1.2 cipher list (OpenSSL syntax); empty: ECDHE with AES-GCM or ChaCha20
  std::string tls_ciphersuites;           // TLS 1.3 suites (OpenSSL syntax); empty: AES-128-GCM, AES-256-GCM, ChaCha20
  std::optional<std::uint16_t> tls_port;  // 0: the kernel picks one; see Server::tls_port()
  // mTLS: the CAs (PEM) client certificates must chain to, and whether one
  // is asked for; the subject reaches handlers as
  // HttpRequest::tls_client_subject.
  std::string tls_ca_file;
  TlsClientAuth tls_client_auth = TlsClientAuth::kNone;
};

// What the server refused before any handler saw it (for /metrics).
struct ServerStats {
  std::uint64_t refused_per_address = 0;      // 429: max_connections_per_address
  std::uint64_t refused_new_connections = 0;  // 503: max_new_connections_per_s
  // TLS handshakes that failed: a plain HTTP request on the TLS port
  // (answered 400), the peer gone first, a protocol error or alert (no
  // shared version or cipher, garbage, an untrusted certificate), or the
  // handshake timeout.
  std::uint64_t tls_failed_plain_http = 0;
  std::uint64_t tls_failed_closed = 0;
  std::uint64_t tls_failed_protocol = 0;
  std::uint64_t tls_failed_timeout = 0;
};

using RouteHandler = std::function<HttpResponse(const HttpRequest&)>;
// Runs on the connection's worker; answers through the responder, from any
// thread. The request's views (body included) are valid only during the
// call: copy what the answer needs.
using AsyncRouteHandler = std::function<void(const HttpRequest& request, HttpResponder responder)>;

class Server {
 public:
  Server(ServerConfig config, WebSocketHandler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Plain HTTP routes on the WebSocket port (exact path match). Unknown
  // paths get 404, a known path with another method 405 (with Allow); HEAD
  // is answered by the GET route without the body. Every answer closes the
  // connection (no keep-alive). A request body is read by Content-Length
  // (up to max_body_size, else 413); Transfer-Encoding (chunked) gets 501.
  // Call before start(). A method and path can have one route, sync or
  // async: a second throws std::logic_error (GET /healthz, built in, may be
  // replaced).
  void route(std::string method, std::string path, RouteHandler handler);
  // The same, answered later through the HttpResponder. While it waits the
  // connection is not read from; without an answer within route_timeout_ms
  // the client gets 504.
  void route_async(std::string method, std::string path, AsyncRouteHandler handler);
  // A GET route (HEAD too) for a load balancer's health check, like the
  // built-in /healthz and the Hub's /readyz: a plain GET of it, without a
  // body, is answered even past max_connections_per_address and
  // max_new_connections_per_s (a connection flood must not fail the node's
  // health checks), and holds no per-address slot. Anything else on that
  // path (an upgrade, another method) meets the caps as usual. Keep it
  // cheap: it is answered to anyone, however many. For /healthz it replaces
  // the built-in one (route() would too, but without the exemption).
  void health_route(std::string path, RouteHandler handler);

  // With HandleSignals::kYes, SIGHUP runs reload on the thread in wait()
  // (without it, and without TLS, SIGHUP keeps its default action). With
  // TLS, SIGHUP first runs reload_tls(), and logs what it says. Call
  // before start().
  void on_reload_signal(std::function<void()> reload);
  // Any thread, after start(): reads ServerConfig::tls_cert_file and
  // tls_key_file again; handshakes from then on use them, open connections
  // keep theirs. "" when done; otherwise why (the file and OpenSSL's
  // reason), and the certificate in use stays.
  std::string reload_tls();

  // Binds every worker's listener (throws std::runtime_error on failure,
  // among them TLS files that cannot be used,
  // among them a port that another process, or another Server, already
  // listens on: the workers share the port only among themselves) and
  // starts the worker threads.
  void start();
  // The bound port (useful with port 0), valid after start().
  std::uint16_t port() const;
  // The port that serves TLS (port() unless ServerConfig::tls_port is set);
  // 0 without TLS. Valid after start().
  std::uint16_t tls_port() const;
  // Blocks until the server has stopped. With HandleSignals::kYes, SIGTERM
  // or SIGINT starts the drain.
  void wait();
  void run() {
    start();
    wait();
  }
  // Any thread: on_draining, then (after drain_notice_ms, during which the
  // server still accepts) stop accepting, close every connection with 1001 (spread
  // evenly over drain_spread_ms, so that clients do not all reconnect in
  // the same second), finish when all are closed or after drain_timeout_ms.
  void stop();

  // Workers running (valid after start()); worker indexes are 0..count-1.
  unsigned worker_count() const;
  // The settings it was made with.
  const ServerConfig& config() const;
  // Any thread: runs task on that worker's thread soon. Tasks posted from
  // one thread to one worker run in posting order. Use it to reach
  // connections owned by another worker (Connection::worker()).
  void post(unsigned worker, std::function<void()> task);
  // Any thread: runs task on that worker's thread once, delay_ms from now
  // (the timer wheel's resolution is 25 ms). Dropped if the server stops first.
  void post_after(unsigned worker, std::uint64_t delay_ms, std::function<void()> task);

  // Connections open or opening, across all workers (approximate while busy).
  std::size_t connection_count() const;
  // Any thread, after start().
  ServerStats stats() const;

 private:
  // In-tree parts that run their own sockets on a worker's loop (the Redis
  // broker) reach it through server/server_loops.h, not the public API.
  friend struct server::ServerLoops;
  loop::EventLoop& event_loop(unsigned worker);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchboard
