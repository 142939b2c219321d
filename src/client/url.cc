#include "client/url.h"

#include <charconv>

#include "base/ascii.h"

namespace switchboard::client {
namespace {

// Characters allowed in a request target we send as is (RFC 3986 pchar,
// '/', '?', and percent escapes): no spaces or controls, which would break
// the request line.
bool is_target_char(char c) { return c > 0x20 && c < 0x7F && c != '#'; }

bool has_prefix(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && base::ascii_iequals(text.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string WsUrl::host_header() const {
  std::string value = ipv6_literal ? "[" + host + "]" : host;
  const std::uint16_t default_port = secure() ? 443 : 80;
  if (port != default_port) value += ":" + std::to_string(port);
  return value;
}

base::Result<WsUrl> parse_ws_url(std::string_view text) {
  WsUrl url;
  if (has_prefix(text, "wss://")) {
    url.scheme = Scheme::kWss;
    url.port = 443;
    text.remove_prefix(6);
  } else if (has_prefix(text, "ws://")) {
    text.remove_prefix(5);
  } else {
    return base::Error("the URL must start with ws:// or wss://");
  }
  const std::size_t slash = text.find_first_of("/?");
  std::string_view authority = text.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? std::string_view() : text.substr(slash);
  if (target.find('#') != std::string_view::npos) return base::Error("a WebSocket URL has no fragment (#...)");
  if (authority.find('@') != std::string_view::npos)
    return base::Error("user information (user@host) is not supported");

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return base::Error("unterminated [ in an IPv6 host");
    url.host = std::string(authority.substr(1, close - 1));
    url.ipv6_literal = true;
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return base::Error("unexpected characters after the IPv6 host");
      port_text = rest.substr(1);
      if (port_text.empty()) return base::Error("empty port");
    }
  } else {
    const std::size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return base::Error("empty port");
    }
  }
  if (url.host.empty()) return base::Error("the URL has no host");
  for (char c : url.host) {
    if (c <= 0x20 || c >= 0x7F || c == '/' || c == '[' || c == ']') return base::Error("invalid character in the host");
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return base::Error("the port must be a number from 1 to 65535");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  if (!target.empty()) {
    for (char c : target) {
      if (!is_target_char(c))
        return base::Error("invalid character in the path (spaces and controls must be %-escaped)");
    }
    url.target = target.front() == '?' ? "/" + std::string(target) : std::string(target);
  }
  return url;
}

}  // namespace switchboard::client
