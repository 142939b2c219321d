// Where a Redis server is and how to log in: parsed from a redis:// URL.
// Pure (no I/O, no DNS): see resolve.h for turning a host name into an
// address before the loop starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace switchboard::redis {

struct Endpoint {
  std::string host;  // a name, or a numeric IPv4/IPv6 address (no brackets)
  std::uint16_t port = 6379;
  int db = 0;
  std::string username;  // empty: AUTH with the password only (requirepass)
  std::string password;  // empty: no AUTH
  bool tls = false;      // rediss://: TLS first (redis::Options::tls says whom to trust)
  // The name Redis's TLS certificate must carry: the host as written in
  // the URL, kept when resolve() turns host into an address.
  std::string server_name;

  const std::string& tls_name() const { return server_name.empty() ? host : server_name; }
};

// Parses redis://[[user]:password@]host[:port][/db], or rediss:// (TLS). An IPv6 host is written
// in brackets (redis://[::1]:6380/2). User and password are taken as written
// (no percent-decoding). A one-line reason when the URL is not of that form.
base::Result<Endpoint> parse_redis_url(std::string_view url);

// The URL with its password (if any) written as ***, for logs and printed
// configs; anything that is not a redis:// URL with credentials comes back
// as it is.
std::string redact_redis_url(std::string_view url);

}  // namespace switchboard::redis
