// Host names to addresses. The connection never blocks its loop, so it
// accepts only numeric addresses and "localhost"; any other host name must
// be resolved once with resolve() at startup, before the loop runs (it calls
// getaddrinfo, which blocks).
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>

#include "base/result.h"
#include "redis/endpoint.h"

namespace switchboard::redis {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t size = 0;
};

// Non-blocking: the address of a numeric IPv4/IPv6 host or of "localhost"
// (127.0.0.1) at port; nothing for any other name.
std::optional<SocketAddress> numeric_address(const std::string& host, std::uint16_t port);

// Blocking (getaddrinfo): returns endpoint with host replaced by its first
// address in numeric form, or why the name does not resolve. Run it before
// the loop starts; a numeric host or "localhost" is returned unchanged.
base::Result<Endpoint> resolve(const Endpoint& endpoint);

}  // namespace switchboard::redis
