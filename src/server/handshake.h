// The HTTP side of a connection before it becomes a WebSocket: the request
// head as it arrives, and the decision taken once it is complete.
#pragma once

#include <string>
#include <vector>

#include "http/request_parser.h"
#include "switchboard/server.h"

namespace switchboard::server {

class Router;

// Lives from accept to the upgrade (or the HTTP answer), then is freed: an
// open WebSocket keeps none of it.
struct Handshake {
  Handshake(std::string peer_address, const ServerConfig& config)
      : peer(std::move(peer_address)), parser(http::Limits{config.max_head_size, config.max_headers}) {}

  std::string peer;
  std::string head;  // every byte received so far
  http::RequestParser parser;
  http::Request request;
  std::vector<HttpHeader> headers;  // request.headers as the public type
};

// What to do with a complete request head.
struct HandshakeOutcome {
  enum class Kind { kUpgrade, kRespond };
  Kind kind;
  std::string response;     // kRespond: the whole HTTP answer; kUpgrade: the 101
  std::string subprotocol;  // kUpgrade
};

// Public view of the parsed request (valid while handshake is unchanged).
HttpRequest view_of(Handshake& handshake);

// Runs the RFC 6455 §4.2.1 checks, the origin allow-list and the handler's
// on_upgrade for a WebSocket request, or the routes for a plain one.
HandshakeOutcome decide(Handshake& handshake, const ServerConfig& config, WebSocketHandler& handler,
                        const Router& router);

// The answer to a request head that failed to parse (400, 431, 505).
std::string answer_parse_error(http::ParseError error);
// The answer to a connection that did not finish its request in time.
std::string answer_timeout();

}  // namespace switchboard::server
