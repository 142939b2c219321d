// What a reload may not do to authentication. A config file emptied or cut
// short by a deploy tool reads as the defaults, which check no token at
// all; applied by a SIGHUP it would open every connection without a word.
// So a reload that switches a check off is refused, and the running
// settings stay: switching authentication off takes a restart, which an
// operator does on purpose.
#pragma once

#include <optional>
#include <string>

#include "switchboard/hub.h"

namespace switchboard::hub {

// nullopt when `next` checks tokens at least as much as `running`, else why not,
// naming the key: auth.required true -> false; every key removed (hmac
// secret, public key and JWKS); auth.require_exp true -> false; auth.issuer
// or auth.audience set -> "" (no longer checked). Other changes (a new key,
// another issuer, a new leeway) are not weakenings.
std::optional<std::string> weakening(const AuthConfig& running, const AuthConfig& next);

}  // namespace switchboard::hub
