// What verify() checks beyond the signature. The caller passes the clock
// so verification is deterministic in tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace switchboard::auth {

// What a token is presented for. A "channel" claim (whatever its value)
// makes a subscription token: it grants that one private channel to a
// connection that already is its user. Without it, a connection token: who
// the connection is, and its "channels". Neither passes for the other, so a
// subscription token (which has no "channels") can never open a connection
// without channel limits.
enum class TokenUse : std::uint8_t { kConnection, kSubscription };

struct VerifyOptions {
  std::int64_t now = 0;        // seconds since the epoch
  std::uint64_t leeway_s = 0;  // clock skew allowed on exp, nbf and iat
  std::string issuer;          // "" = not checked; else "iss" must equal it
  std::string audience;        // "" = not checked; else "aud" must contain it
  std::size_t max_token_size = 8192;  // longer tokens fail before any decoding
  TokenUse use = TokenUse::kConnection;
  // A token without "exp" would never expire: refused when set. (The
  // server's default is on: AuthConfig::require_exp.)
  bool require_exp = false;
};

}  // namespace switchboard::auth
