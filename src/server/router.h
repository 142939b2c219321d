// Plain HTTP routes served on the WebSocket port: exact path, per method,
// each answered now (RouteHandler) or later (AsyncRouteHandler). Built before
// the server starts, read-only (so shared by all workers) after.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "switchboard/server.h"

namespace switchboard::server {

// A load balancer's health check (Server::health_route) is answered past
// the admission caps; every other route meets them.
enum class RouteKind : std::uint8_t { kPlain, kHealthCheck };

class Router {
 public:
  // Exactly one of the two handlers is set.
  struct Route {
    RouteHandler handler;             // answers at once
    AsyncRouteHandler async_handler;  // answers through an HttpResponder
    RouteKind kind = RouteKind::kPlain;
  };

  // Throw std::logic_error when the method already has a route on that path
  // (of either kind), std::invalid_argument for an empty handler or a
  // method that is not a token.
  void add(std::string method, std::string path, RouteHandler handler, RouteKind kind = RouteKind::kPlain);
  void add_async(std::string method, std::string path, AsyncRouteHandler handler);
  bool has(std::string_view method, std::string_view path) const;

  // route: the route for the method and path; HEAD takes GET's when it has
  // none of its own (RFC 9110 §9.3.2). Without one, allow lists the path's
  // methods (answer 405 with it), or is empty for an unknown path (404).
  struct Match {
    const Route* route = nullptr;  // into the router: stable, it no longer changes
    std::string allow;
  };
  Match find(std::string_view method, std::string_view path) const;

 private:
  void insert(std::string method, std::string path, Route route);

  // path -> method -> route
  std::map<std::string, std::map<std::string, Route, std::less<>>, std::less<>> routes_;
};

}  // namespace switchboard::server
