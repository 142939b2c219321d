#include "server/router.h"

#include <algorithm>
#include <stdexcept>

#include "http/request_parser.h"

namespace switchboard::server {

void Router::add(std::string method, std::string path, RouteHandler handler, RouteKind kind) {
  if (!handler) throw std::invalid_argument("route " + method + " " + path + ": empty handler");
  insert(std::move(method), std::move(path), Route{std::move(handler), {}, kind});
}

void Router::add_async(std::string method, std::string path, AsyncRouteHandler handler) {
  if (!handler) throw std::invalid_argument("route " + method + " " + path + ": empty handler");
  insert(std::move(method), std::move(path), Route{{}, std::move(handler)});
}

void Router::insert(std::string method, std::string path, Route route) {
  // The method is matched as sent and listed in Allow: a token (RFC 9110 §9.1).
  if (method.empty() || !std::all_of(method.begin(), method.end(), http::is_tchar)) {
    throw std::invalid_argument("route " + path + ": method is not a token");
  }
  auto& methods = routes_[path];
  if (methods.contains(method)) {
    throw std::logic_error("route " + method + " " + path + " is already registered (sync or async)");
  }
  methods.emplace(std::move(method), std::move(route));
}

bool Router::has(std::string_view method, std::string_view path) const {
  auto methods = routes_.find(path);
  return methods != routes_.end() && methods->second.find(method) != methods->second.end();
}

Router::Match Router::find(std::string_view method, std::string_view path) const {
  auto methods = routes_.find(path);
  if (methods == routes_.end()) return {};
  auto route = methods->second.find(method);
  // RFC 9110 §9.3.2: a server that answers GET answers HEAD the same way.
  if (route == methods->second.end() && method == "HEAD") route = methods->second.find(std::string_view("GET"));
  if (route != methods->second.end()) return {&route->second, {}};
  std::string allow;
  for (const auto& [name, unused] : methods->second) {
    if (!allow.empty()) allow += ", ";
    allow += name;
  }
  return {nullptr, std::move(allow)};
}

}  // namespace switchboard::server
