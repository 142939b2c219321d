// Where a WebSocket URL points: its host resolved to one socket address.
// Shared by the client library and the load generator.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "base/result.h"
#include "client/url.h"

namespace switchboard::client {

struct Endpoint {
  sockaddr_storage address{};
  socklen_t size = 0;
  int family = AF_UNSPEC;

  bool is_ipv4_loopback() const;
  std::string to_string() const;  // "127.0.0.1:8080", "[::1]:8080"
};

// IP literals are used as they are; other names go through getaddrinfo
// (the first address returned), which blocks. The address, or a one-line
// reason.
base::Result<Endpoint> resolve(const WsUrl& url);

}  // namespace switchboard::client
