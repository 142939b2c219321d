// `ws://host[:port][/path][?query]` and `wss://...` URLs (RFC 6455 §3): no
// user info, no fragment. Pure: parsing only; resolving the host is
// endpoint.h's job. Used by the client library and the load generator
// (which refuses wss:// itself).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace switchboard::client {

enum class Scheme : std::uint8_t { kWs, kWss };

struct WsUrl {
  Scheme scheme = Scheme::kWs;
  std::string host;          // as written, without the brackets of an IPv6 literal
  std::uint16_t port = 80;   // RFC 6455 §3: 80 (ws) or 443 (wss) when absent
  std::string target = "/";  // path and query, as sent in the request line
  bool ipv6_literal = false;

  bool secure() const { return scheme == Scheme::kWss; }
  // The Host header value (RFC 9110 §7.2): brackets for IPv6, the port when
  // not the scheme's default.
  std::string host_header() const;
};

// The URL, or a one-line reason why text is not one.
base::Result<WsUrl> parse_ws_url(std::string_view text);

}  // namespace switchboard::client
