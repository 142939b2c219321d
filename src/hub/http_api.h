// The server HTTP API of the hub (docs/HTTP_API.md): publish, broadcast to
// several channels, send to a user, disconnect a user, presence, a
// channel's history, the channel list and stats, for an application's
// backend, behind an API key.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/hub.h"
#include "switchboard/server.h"

namespace switchboard::hub {

class Node;

class HttpApi {
 public:
  HttpApi(std::shared_ptr<Node> node, std::string api_key);

  // Registers the /api/ routes (before Server::start). The HttpApi must
  // outlive the server: the routes call into it.
  void add_routes(Server& server);

 private:
  // nullopt when the request carries the key, else why not (for the log:
  // a fixed phrase, never what was sent).
  std::optional<std::string_view> refusal(const HttpRequest& request) const;
  void publish(const HttpRequest& request, HttpResponder responder);
  void broadcast(const HttpRequest& request, HttpResponder responder);
  void send(const HttpRequest& request, HttpResponder responder);
  void disconnect(const HttpRequest& request, HttpResponder responder);
  void presence(const HttpRequest& request, HttpResponder responder);
  void history(const HttpRequest& request, HttpResponder responder);  // http_api_history.cc
  void channels(const HttpRequest& request, HttpResponder responder);
  void stats(const HttpRequest& request, HttpResponder responder);
  void user(const HttpRequest& request, HttpResponder responder);

  std::shared_ptr<Node> node_;
  std::string api_key_;
};

}  // namespace switchboard::hub
