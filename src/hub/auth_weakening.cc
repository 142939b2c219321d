#include "hub/auth_weakening.h"

namespace switchboard::hub {
namespace {

constexpr const char* kRestart = ": that takes a restart, a reload keeps authentication as it is";

}  // namespace

std::optional<std::string> weakening(const AuthConfig& running, const AuthConfig& next) {
  if (running.required && !next.required) return std::string("auth.required would switch off") + kRestart;
  if (running.enabled() && !next.enabled()) {
    return std::string("every token key would be removed (auth.hmac_secret, auth.public_key_file, auth.jwks_file)") +
           kRestart;
  }
  if (running.require_exp && !next.require_exp) return std::string("auth.require_exp would switch off") + kRestart;
  if (!running.issuer.empty() && next.issuer.empty()) {
    return std::string("auth.issuer would no longer be checked") + kRestart;
  }
  if (!running.audience.empty() && next.audience.empty()) {
    return std::string("auth.audience would no longer be checked") + kRestart;
  }
  return std::nullopt;
}

}  // namespace switchboard::hub
