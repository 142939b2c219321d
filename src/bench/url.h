// `ws://host[:port][/path][?query]` URLs (RFC 6455 §3), the only form the
// load generator speaks: no TLS (wss), no user info, no fragment.
// Pure: parsing only; resolving the host is address.h's job.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::bench {

struct WsUrl {
  std::string host;          // as written, without the brackets of an IPv6 literal
  std::uint16_t port = 80;   // RFC 6455 §3: 80 when absent
  std::string target = "/";  // path and query, as sent in the request line
  bool ipv6_literal = false;

  // The Host header value (RFC 9110 §7.2): brackets for IPv6, the port when
  // not the default.
  std::string host_header() const;
};

// Fills *out and returns "" on success, else a one-line reason.
std::string parse_ws_url(std::string_view text, WsUrl* out);

}  // namespace switchboard::bench
