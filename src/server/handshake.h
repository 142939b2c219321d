// The HTTP side of a connection before it becomes a WebSocket (or instead):
// the request as it arrives (head, then a plain request's body), and the
// decisions taken once the head, then the body, are complete.
#pragma once

#include <any>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/request_parser.h"
#include "server/router.h"
#include "switchboard/server.h"

namespace switchboard::server {

// Lives from accept to the upgrade (or the HTTP answer), then is freed: an
// open WebSocket keeps none of it, nor does a connection lingering after
// its answer.
struct Handshake {
  enum class Phase : std::uint8_t {
    kHead,            // reading the request head
    kBody,            // a plain request: reading Content-Length bytes of body
    kAwaitingAnswer,  // an async route has the request; the socket is not read
  };

  Handshake(std::string peer_address, const ServerConfig& config)
      : peer(std::move(peer_address)),
        parser(http::Limits{config.max_head_size, config.max_headers, config.max_body_size}) {}
  // Unlinks the responder: a late answer then finds no connection.
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  // Bytes still missing from the body (Phase::kBody).
  std::size_t body_bytes_missing() const;

  std::string peer;
  std::string tls_client_subject;  // HttpRequest::tls_client_subject
  std::string bytes;               // every byte received: the head, then the body
  http::RequestParser parser;
  http::Request request;
  std::vector<HttpHeader> headers;            // request.headers as the public type
  const Router::Route* route = nullptr;       // a plain request's route, once the head is complete
  std::shared_ptr<ResponderState> responder;  // Phase::kAwaitingAnswer
  Phase phase = Phase::kHead;
  // Set at accept by admission control: answer this status (429 or 503,
  // with Retry-After) once the head is read, unless it is a health check
  // (Worker::admit_request).
  int refuse_status = 0;
  // The socket comes from a trusted proxy: once the head is read, `peer`
  // becomes the client that X-Forwarded-For names (server/forwarded.h).
  bool via_trusted_proxy = false;
  // An accepted upgrade: UpgradeDecision::state, for on_open.
  std::any upgrade_state;
};

// What to do after the head, or the body, is complete.
struct HandshakeOutcome {
  enum class Kind : std::uint8_t {
    kUpgrade,    // write `response` (the 101), then open the WebSocket
    kRespond,    // write `response` (the whole answer), then close
    kReadBody,   // write `response` (100 Continue, or nothing), read on
    kCallAsync,  // hand the request to handshake.route->async_handler
  };
  Kind kind;
  std::string response;
  std::string subprotocol;  // kUpgrade
};

// Once the head is complete: a plain GET or HEAD, without a body, of a
// health-check route (RouteKind::kHealthCheck), which the admission caps
// let through. Never an upgrade: the answer closes the connection.
bool is_health_check(const Handshake& handshake, const Router& router);

// Public view of the parsed request (valid while handshake is unchanged).
HttpRequest view_of(Handshake& handshake);

// Once the head is complete: runs the RFC 6455 §4.2.1 checks, the origin
// allow-list and the handler's on_upgrade for a WebSocket request; for a
// plain one the body framing (501, 413: refused before any body byte), then
// the routes (404 and 405 before the body too), then waits for the body
// (Phase::kBody) or calls the route.
HandshakeOutcome decide(Handshake& handshake, const ServerConfig& config, WebSocketHandler& handler,
                        const Router& router);
// In Phase::kBody, after more bytes: kReadBody (with no response) until the
// body is complete, then the route's answer or kCallAsync.
HandshakeOutcome decide_after_body(Handshake& handshake);

// The whole answer to a plain request: status, headers and body of the
// route's response (no body for HEAD, RFC 9110 §9.3.2). A header that
// would split the response or clash with ours makes it a 500 instead, with
// one log line.
std::string answer_route(const HttpRequest& request, const HttpResponse& response);
// The answer to a request that failed to parse (400, 413, 431, 501, 505).
std::string answer_parse_error(http::ParseError error);
// The answer to a connection that did not finish its request in time.
std::string answer_timeout();
// The answer when an async route did not answer within route_timeout_ms.
std::string answer_route_timeout();
// The answer to a request still waiting for its async route when the
// Server is destroyed.
std::string answer_shutting_down();

// 400 to a plain HTTP request (or a ws:// upgrade) made to a TLS port,
// sent in the clear: the peer showed it speaks plain HTTP.
std::string answer_plain_http_on_tls_port();

}  // namespace switchboard::server
