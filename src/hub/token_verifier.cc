#include "hub/token_verifier.h"

#include "base/ascii.h"
#include "base/clock.h"
#include "http/query.h"
#include "protocol/names.h"

namespace switchboard::hub {

base::Result<std::shared_ptr<const TokenVerifier>> TokenVerifier::create(const AuthConfig& config) {
  if (!config.enabled()) return std::shared_ptr<const TokenVerifier>();
  auto verifier = std::make_shared<TokenVerifier>();
  if (!config.hmac_secret.empty()) {
    const std::optional<auth::Algorithm> algorithm = auth::algorithm_from_name(config.hmac_algorithm);
    if (!algorithm) {
      return base::Error("auth.hmac_algorithm: unknown algorithm '" + config.hmac_algorithm + "'");
    }
    if (auto added = verifier->keys_.add_hmac_secret("", *algorithm, config.hmac_secret); !added) {
      return base::Error("auth.hmac_secret: " + added.error());
    }
  }
  if (!config.public_key_pem.empty()) {
    if (!config.hmac_secret.empty()) {
      return base::Error(
          "auth.public_key_file: give either a secret or a public key for tokens without a kid, not both");
    }
    const std::optional<auth::Algorithm> algorithm = auth::algorithm_from_name(config.public_key_algorithm);
    if (!algorithm) {
      return base::Error("auth.public_key_algorithm: unknown algorithm '" + config.public_key_algorithm + "'");
    }
    if (auto added = verifier->keys_.add_public_key_pem("", *algorithm, config.public_key_pem); !added) {
      return base::Error("auth.public_key_file: " + added.error());
    }
  }
  if (!config.jwks_json.empty()) {
    if (auto added = verifier->keys_.add_jwks(config.jwks_json); !added) {
      return base::Error("auth.jwks_file: " + added.error());
    }
  }
  verifier->options_.leeway_s = config.leeway_s;
  verifier->options_.issuer = config.issuer;
  verifier->options_.audience = config.audience;
  verifier->options_.require_exp = config.require_exp;
  return std::shared_ptr<const TokenVerifier>(std::move(verifier));
}

auth::VerifyError TokenVerifier::verify(std::string_view token, auth::TokenUse use, GrantedToken* granted) const {
  auth::VerifyOptions options = options_;
  options.use = use;
  options.now = base::wall_clock_s();  // exp/nbf/iat are wall-clock times
  auth::Claims claims;
  const auth::VerifyError error = auth::verify(token, keys_, options, &claims);
  if (error != auth::VerifyError::kNone) return error;
  if (!claims.subject.empty() && !protocol::is_valid_user(claims.subject)) return auth::VerifyError::kBadClaims;
  granted->user = std::move(claims.subject);
  granted->info_json = std::move(claims.info_json);
  granted->channels = std::move(claims.channels);
  granted->expires_at = claims.expires_at.value_or(0);
  granted->channel = std::move(claims.channel).value_or("");
  granted->send_to = std::move(claims.send_to);
  return auth::VerifyError::kNone;
}

std::string token_from_request(const HttpRequest& request) {
  if (std::optional<std::string> token = http::query_parameter(request.target, "token")) return *token;
  std::string_view authorization = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && base::ascii_iequals(authorization.substr(0, kBearer.size()), kBearer)) {
    authorization.remove_prefix(kBearer.size());
    while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
    return std::string(authorization);
  }
  return "";
}

}  // namespace switchboard::hub
