#include "redis/endpoint.h"

#include <charconv>

namespace switchboard::redis {
namespace {

base::Error fail(std::string reason) { return base::Error(std::move(reason)); }

template <typename Number>
bool parse_number(std::string_view text, Number& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

base::Result<Endpoint> parse_redis_url(std::string_view url) {
  Endpoint endpoint;
  std::string_view rest;
  if (url.starts_with("redis://")) {
    rest = url.substr(8);
  } else if (url.starts_with("rediss://")) {
    rest = url.substr(9);
    endpoint.tls = true;
  } else {
    return fail("a Redis URL starts with redis:// (or rediss:// for TLS)");
  }

  // Credentials: everything before the last '@' (a password may hold '@').
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return fail("credentials must be written user:password@ or :password@");
    }
    endpoint.username = userinfo.substr(0, colon);
    endpoint.password = userinfo.substr(colon + 1);
    if (endpoint.password.empty()) return fail("empty password in the URL");
  }

  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }

  std::string_view port;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return fail("missing ']' after an IPv6 address");
    endpoint.host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return fail("unexpected text after ']'");
      port = after.substr(1);
      if (port.empty()) return fail("empty port");
    }
    if (endpoint.host.find(':') == std::string::npos) return fail("brackets hold an IPv6 address");
  } else {
    auto colon = rest.find(':');
    if (colon != std::string_view::npos) {
      if (rest.find(':', colon + 1) != std::string_view::npos) {
        return fail("an IPv6 address must be written in brackets");
      }
      port = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
      if (port.empty()) return fail("empty port");
    }
    endpoint.host = rest;
  }
  if (endpoint.host.empty()) return fail("missing host");

  if (!port.empty()) {
    unsigned value = 0;
    if (!parse_number(port, value) || value == 0 || value > 65535) {
      return fail("bad port '" + std::string(port) + "' (1-65535)");
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  if (!path.empty()) {
    int db = 0;
    if (!parse_number(path, db) || db < 0) {
      return fail("bad database '" + std::string(path) + "' (a number from 0)");
    }
    endpoint.db = db;
  }
  endpoint.server_name = endpoint.host;
  return endpoint;
}

std::string redact_redis_url(std::string_view url) {
  const std::size_t scheme = url.starts_with("redis://") ? 8 : url.starts_with("rediss://") ? 9 : 0;
  if (scheme == 0) return std::string(url);
  // As parse_redis_url: credentials end at the last '@'; the password
  // starts after the first ':' in them.
  const std::string_view rest = url.substr(scheme);
  const std::size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const std::size_t colon = rest.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, scheme + colon + 1));
  out += "***";
  out += rest.substr(at);
  return out;
}

}  // namespace switchboard::redis
