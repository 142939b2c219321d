// What verify() checks beyond the signature. The caller passes the clock
// so verification is deterministic in tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace switchboard::auth {

struct VerifyOptions {
  std::int64_t now = 0;        // seconds since the epoch
  std::uint64_t leeway_s = 0;  // clock skew allowed on exp, nbf and iat
  std::string issuer;          // "" = not checked; else "iss" must equal it
  std::string audience;        // "" = not checked; else "aud" must contain it
  std::size_t max_token_size = 8192;  // longer tokens fail before any decoding
};

}  // namespace switchboard::auth
