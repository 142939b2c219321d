#include "server/router.h"

namespace switchboard::server {

void Router::add(std::string method, std::string path, RouteHandler handler) {
  routes_[std::move(path)][std::move(method)] = std::move(handler);
}

Router::Answer Router::dispatch(const HttpRequest& request) const {
  auto path = routes_.find(request.path);
  if (path == routes_.end()) return {{404, "text/plain; charset=utf-8", "not found\n"}, {}};
  auto method = path->second.find(request.method);
  // RFC 9110 §9.3.2: a server that answers GET answers HEAD the same way.
  if (method == path->second.end() && request.method == "HEAD") method = path->second.find(std::string_view("GET"));
  if (method != path->second.end()) return {method->second(request), {}};
  std::string allow;
  for (const auto& [name, unused] : path->second) {
    if (!allow.empty()) allow += ", ";
    allow += name;
  }
  return {{405, "text/plain; charset=utf-8", "method not allowed\n"}, std::move(allow)};
}

}  // namespace switchboard::server
