// Plain HTTP routes served on the WebSocket port: exact path, per method.
// Built before the server starts, read-only (so shared by all workers) after.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "switchboard/server.h"

namespace switchboard::server {

class Router {
 public:
  void add(std::string method, std::string path, RouteHandler handler);

  // 404 for an unknown path, 405 (with Allow) for a known path and another
  // method, else the route's answer.
  struct Answer {
    HttpResponse response;
    std::string allow;  // the Allow header value, with 405
  };
  Answer dispatch(const HttpRequest& request) const;

 private:
  // path -> method -> handler
  std::map<std::string, std::map<std::string, RouteHandler, std::less<>>, std::less<>> routes_;
};

}  // namespace switchboard::server
