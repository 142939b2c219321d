// What Switchboard reads from a verified token's payload (RFC 7519 §4.1
// registered claims plus Switchboard's own). Filled only after the
// signature verified.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::auth {

struct Claims {
  // "sub": the user id. Absent or "" means an anonymous holder.
  std::string subject;
  // "exp", "nbf", "iat" in seconds since the epoch (a real is truncated).
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> not_before;
  std::optional<std::int64_t> issued_at;
  // "iss"; "" when absent.
  std::string issuer;
  // "aud", a string or an array of strings (RFC 7519 §4.1.3); empty when absent.
  std::vector<std::string> audience;
  // "channels": the channel patterns the holder may use; nullopt when absent
  // (the server's defaults apply), an empty vector grants none.
  std::optional<std::vector<std::string>> channels;
  // "channel": a subscription token names the one channel it grants. Its
  // presence, even as "", is what makes a subscription token (TokenUse).
  std::optional<std::string> channel;
  // "send_to": the user ids the holder may `send` to; nullopt when absent
  // (the server's hub.send_permission decides), an empty vector allows none.
  std::optional<std::vector<std::string>> send_to;
  // "info": any JSON value, minified, passed to other clients (presence,
  // join); "" when absent.
  std::string info_json;
};

}  // namespace switchboard::auth
