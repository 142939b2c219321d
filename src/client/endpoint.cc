#include "client/endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

namespace switchboard::client {

bool Endpoint::is_ipv4_loopback() const {
  if (family != AF_INET) return false;
  const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
  return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
}

std::string Endpoint::to_string() const {
  char text[INET6_ADDRSTRLEN] = "?";
  if (family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return text;
}

base::Result<Endpoint> resolve(const WsUrl& url) {
  Endpoint endpoint;
  auto* in = reinterpret_cast<sockaddr_in*>(&endpoint.address);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&endpoint.address);
  if (!url.ipv6_literal && inet_pton(AF_INET, url.host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(url.port);
    endpoint.family = AF_INET;
    endpoint.size = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, url.host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(url.port);
    endpoint.family = AF_INET6;
    endpoint.size = sizeof(sockaddr_in6);
  } else if (url.ipv6_literal) {
    return base::Error("invalid IPv6 address: " + url.host);
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* result = nullptr;
    const std::string port = std::to_string(url.port);
    const int status = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &result);
    if (status != 0 || result == nullptr)
      return base::Error("cannot resolve " + url.host + ": " + gai_strerror(status));
    std::memcpy(&endpoint.address, result->ai_addr, result->ai_addrlen);
    endpoint.size = result->ai_addrlen;
    endpoint.family = result->ai_family;
    freeaddrinfo(result);
  }
  return endpoint;
}

}  // namespace switchboard::client
