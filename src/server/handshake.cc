#include "server/handshake.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "base/ascii.h"
#include "base/log.h"
#include "http/response.h"
#include "http/upgrade.h"
#include "server/admission.h"
#include "server/responder.h"

namespace switchboard::server {
namespace {

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";

std::string error_response(int status, std::string_view message, std::initializer_list<http::Header> extra = {}) {
  std::string body(message);
  body += '\n';
  return http::make_response(status, kTextPlain, body, extra);
}

// Sec-WebSocket-Protocol may come as several headers, each a comma list.
std::vector<std::string_view> offered_subprotocols(const http::Request& request) {
  std::vector<std::string_view> offered;
  for (const auto& header : request.headers) {
    if (!base::ascii_iequals(header.name, "Sec-WebSocket-Protocol")) continue;
    std::string_view rest = header.value;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) offered.push_back(item);
    }
  }
  return offered;
}

HandshakeOutcome respond(std::string response) { return {HandshakeOutcome::Kind::kRespond, std::move(response), {}}; }

HandshakeOutcome decide_upgrade(Handshake& handshake, const HttpRequest& view, const ServerConfig& config,
                                WebSocketHandler& handler) {
  const http::Request& request = handshake.request;
  std::string_view key;
  http::UpgradeError error = http::validate_upgrade(request, &key);
  if (error == http::UpgradeError::kUnsupportedVersion) {
    return respond(error_response(http::status_for(error), http::describe(error), {{"Sec-WebSocket-Version", "13"}}));
  }
  if (error == http::UpgradeError::kMethodNotGet) {
    return respond(error_response(http::status_for(error), http::describe(error), {{"Allow", "GET"}}));
  }
  if (error != http::UpgradeError::kNone)
    return respond(error_response(http::status_for(error), http::describe(error)));

  // Cross-site WebSocket hijacking: browsers always send Origin, so an
  // allow-list refuses pages from elsewhere (RFC 6455 §10.2).
  if (!config.allowed_origins.empty()) {
    std::string_view origin = request.header("Origin");
    bool allowed = std::any_of(config.allowed_origins.begin(), config.allowed_origins.end(),
                               [&](const std::string& entry) { return entry == origin; });
    if (!allowed) return respond(error_response(403, "origin not allowed"));
  }

  std::vector<std::string_view> offered = offered_subprotocols(request);
  UpgradeDecision decision = handler.on_upgrade(view, offered);
  if (decision.reject_status != 0) {
    std::string body =
        decision.reject_body.empty() ? http::reason_phrase(decision.reject_status) : decision.reject_body;
    return respond(error_response(decision.reject_status, body));
  }
  // RFC 6455 §4.2.2: the server may only pick one of the client's values.
  if (!decision.subprotocol.empty() &&
      std::find(offered.begin(), offered.end(), decision.subprotocol) == offered.end()) {
    return respond(error_response(500, "handler chose a subprotocol the client did not offer"));
  }
  handshake.upgrade_state = std::move(decision.state);
  return {HandshakeOutcome::Kind::kUpgrade, http::switching_protocols(http::accept_key(key), decision.subprotocol),
          decision.subprotocol};
}

// Fields make_response writes itself: a route may not add them (a second
// Content-Length or Transfer-Encoding would change the framing).
constexpr std::array<std::string_view, 4> kServerFields = {"Content-Length", "Content-Type", "Connection",
                                                           "Transfer-Encoding"};

bool is_server_field(std::string_view name) {
  return std::any_of(kServerFields.begin(), kServerFields.end(),
                     [&](std::string_view field) { return base::ascii_iequals(field, name); });
}

// RFC 9110 §9.3.2: HEAD gets the same head and no body. The head ends at the
// first empty line: no field line may hold CR or LF (answer_route checks).
std::string without_body_for_head(const HttpRequest& request, std::string response) {
  if (request.method == "HEAD") response.resize(response.find("\r\n\r\n") + 4);
  return response;
}

// Logs why a route's answer is refused and returns the 500 sent instead.
std::string refuse_answer(const HttpRequest& request, const char* why) {
  // The path is visible ASCII (the parser checked), cut to keep one short line.
  constexpr std::size_t kMaxPath = 120;
  base::log(base::LogLevel::kError, "route %.*s %.*s: %s; answering 500", static_cast<int>(request.method.size()),
            request.method.data(), static_cast<int>(std::min(request.path.size(), kMaxPath)), request.path.data(), why);
  return without_body_for_head(request, http::make_response(500, kTextPlain, "internal server error\n"));
}

// Hands a plain request whose body is complete to its route.
HandshakeOutcome call_route(Handshake& handshake) {
  if (handshake.route->async_handler) {
    // The request may wait a while (route_timeout_ms): keep only its own
    // bytes, not whatever else the last read brought, then view them anew.
    handshake.bytes.resize(handshake.parser.message_size());
    handshake.bytes.shrink_to_fit();
    handshake.parser.parse_body(handshake.bytes, handshake.request);
    return {HandshakeOutcome::Kind::kCallAsync, {}, {}};
  }
  HttpRequest view = view_of(handshake);
  return respond(answer_route(view, handshake.route->handler(view)));
}

HandshakeOutcome decide_plain(Handshake& handshake, const Router& router) {
  // Framing first: a body we will not read (chunked, too large) is refused
  // from the head alone, so the client need not send it (RFC 9112 §6).
  http::ParseStatus status = handshake.parser.parse_body(handshake.bytes, handshake.request);
  if (status == http::ParseStatus::kFailed) return respond(answer_parse_error(handshake.parser.error()));

  HttpRequest view = view_of(handshake);
  Router::Match match = router.find(view.method, view.path);
  if (match.route == nullptr) {
    HttpResponse response =
        match.allow.empty()
            ? HttpResponse{404, std::string(kTextPlain), "not found\n", {}}
            : HttpResponse{405, std::string(kTextPlain), "method not allowed\n", {{"Allow", match.allow}}};
    return respond(answer_route(view, response));
  }
  handshake.route = match.route;
  if (status == http::ParseStatus::kComplete) return call_route(handshake);

  handshake.phase = Handshake::Phase::kBody;
  // RFC 9110 §10.1.1: a client that sent `Expect: 100-continue` may wait
  // for this before it sends the body; a final status (413, 404 above)
  // would have been sent instead.
  std::string interim;
  if (handshake.request.minor_version >= 1 && base::ascii_iequals(view.header("Expect"), "100-continue")) {
    interim = http::continue_response();
  }
  return {HandshakeOutcome::Kind::kReadBody, std::move(interim), {}};
}

}  // namespace

Handshake::~Handshake() {
  if (responder) responder->connection = nullptr;
}

std::size_t Handshake::body_bytes_missing() const {
  const std::uint64_t wanted = parser.head_size() + request.content_length;
  return bytes.size() >= wanted ? 0 : static_cast<std::size_t>(wanted - bytes.size());
}

bool is_health_check(const Handshake& handshake, const Router& router) {
  const http::Request& request = handshake.request;
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (http::wants_websocket(request) || request.content_length != 0 || request.has_header("Transfer-Encoding")) {
    return false;
  }
  const Router::Route* route = router.find(request.method, request.path()).route;
  return route != nullptr && route->kind == RouteKind::kHealthCheck;
}

HttpRequest view_of(Handshake& handshake) {
  const http::Request& request = handshake.request;
  // Rebuilt every time: the views move when the buffer grows with the body.
  handshake.headers.clear();
  handshake.headers.reserve(request.headers.size());
  for (const auto& header : request.headers) handshake.headers.push_back({header.name, header.value});
  HttpRequest view{request.method, request.target, request.path(), handshake.headers, handshake.peer, request.body};
  view.tls_client_subject = handshake.tls_client_subject;
  return view;
}

HandshakeOutcome decide(Handshake& handshake, const ServerConfig& config, WebSocketHandler& handler,
                        const Router& router) {
  if (handshake.refuse_status != 0) {
    const std::string retry_after = std::to_string(jittered_retry_after_s());
    return respond(error_response(handshake.refuse_status,
                                  handshake.refuse_status == 429 ? "too many connections from this address"
                                                                 : "too many new connections: retry later",
                                  {{"Retry-After", retry_after}}));
  }
  if (http::wants_websocket(handshake.request)) return decide_upgrade(handshake, view_of(handshake), config, handler);
  return decide_plain(handshake, router);
}

HandshakeOutcome decide_after_body(Handshake& handshake) {
  switch (handshake.parser.parse_body(handshake.bytes, handshake.request)) {
    case http::ParseStatus::kIncomplete:
      return {HandshakeOutcome::Kind::kReadBody, {}, {}};
    case http::ParseStatus::kFailed:  // refused when the head completed; not reached
      return respond(answer_parse_error(handshake.parser.error()));
    case http::ParseStatus::kComplete:
      break;
  }
  return call_route(handshake);
}

std::string answer_route(const HttpRequest& request, const HttpResponse& response) {
  // A final answer: 1xx are interim, and three digits is all a status line holds.
  if (response.status < 200 || response.status > 599) return refuse_answer(request, "status not in 200-599");
  if (!response.content_type.empty() && !http::is_safe_field("Content-Type", response.content_type)) {
    return refuse_answer(request, "content type holds a control character (CR/LF)");
  }
  std::vector<http::Header> extra;
  extra.reserve(response.headers.size());
  for (const auto& [name, value] : response.headers) {
    if (!http::is_safe_field(name, value)) {
      return refuse_answer(request, "response header name not a token, or value holds a control character (CR/LF)");
    }
    if (is_server_field(name)) return refuse_answer(request, "response header the server writes itself");
    extra.push_back({name, value});
  }
  return without_body_for_head(request,
                               http::make_response(response.status, response.content_type, response.body, extra));
}

std::string answer_parse_error(http::ParseError error) {
  return error_response(http::status_for(error), http::describe(error));
}

std::string answer_timeout() { return error_response(408, "request not received in time"); }

std::string answer_route_timeout() { return error_response(504, "the route did not answer in time"); }

std::string answer_shutting_down() { return error_response(503, "server shutting down"); }

std::string answer_plain_http_on_tls_port() {
  return error_response(400, "this port speaks TLS: use https:// or wss://");
}

}  // namespace switchboard::server
