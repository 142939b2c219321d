// The hub's view of token (JWT) authentication: the server's keys and
// checks (AuthConfig), and what a verified token means for a connection.
// Built once per configuration and shared read-only by every worker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt_verify.h"
#include "auth/key_set.h"
#include "base/result.h"
#include "switchboard/hub.h"

namespace switchboard::hub {

// What a connection or subscription token grants.
struct GrantedToken {
  std::string user;       // "sub"
  std::string info_json;  // "info"
  std::optional<std::vector<std::string>> channels;
  std::int64_t expires_at = 0;  // 0: never
  std::string channel;          // a subscription token's channel (TokenUse::kSubscription)
  // "send_to": the users the holder may `send` to; nullopt: any.
  std::optional<std::vector<std::string>> send_to;
};

class TokenVerifier {
 public:
  // The verifier of config's keys (null when the config has no key: tokens
  // are not checked), or why the keys are unusable.
  static base::Result<std::shared_ptr<const TokenVerifier>> create(const AuthConfig& config);

  // kNone with *granted filled, or why the token is refused. A "sub" that is
  // not a valid protocol user id is refused as kBadClaims; a token of the
  // other kind than `use` (auth::TokenUse) as kNotConnectionToken or
  // kNotSubscriptionToken.
  auth::VerifyError verify(std::string_view token, auth::TokenUse use, GrantedToken* granted) const;

 private:
  auth::KeySet keys_;
  auth::VerifyOptions options_;
};

// The token a handshake carries: `?token=` in the URL (browsers cannot set
// headers) or `Authorization: Bearer`. Empty when there is none.
std::string token_from_request(const HttpRequest& request);

}  // namespace switchboard::hub
