#include "server/handshake.h"

#include <algorithm>
#include <string_view>

#include "base/ascii.h"
#include "http/response.h"
#include "http/upgrade.h"
#include "server/router.h"

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
  return {HandshakeOutcome::Kind::kUpgrade, http::switching_protocols(http::accept_key(key), decision.subprotocol),
          decision.subprotocol};
}

}  // namespace

HttpRequest view_of(Handshake& handshake) {
  const http::Request& request = handshake.request;
  if (handshake.headers.size() != request.headers.size()) {
    handshake.headers.clear();
    handshake.headers.reserve(request.headers.size());
    for (const auto& header : request.headers) handshake.headers.push_back({header.name, header.value});
  }
  return HttpRequest{request.method, request.target, request.path(), handshake.headers, handshake.peer};
}

HandshakeOutcome decide(Handshake& handshake, const ServerConfig& config, WebSocketHandler& handler,
                        const Router& router) {
  HttpRequest view = view_of(handshake);
  if (http::wants_websocket(handshake.request)) return decide_upgrade(handshake, view, config, handler);

  Router::Answer answer = router.dispatch(view);
  std::string response =
      answer.allow.empty()
          ? http::make_response(answer.response.status, answer.response.content_type, answer.response.body)
          : http::make_response(answer.response.status, answer.response.content_type, answer.response.body,
                                {{"Allow", answer.allow}});
  // RFC 9110 §9.3.2: HEAD gets the same head and no body.
  if (view.method == "HEAD") response.resize(response.size() - answer.response.body.size());
  return respond(std::move(response));
}

std::string answer_parse_error(http::ParseError error) {
  return error_response(http::status_for(error), http::describe(error));
}

std::string answer_timeout() { return error_response(408, "request head not received in time"); }

}  // namespace switchboard::server
