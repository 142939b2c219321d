// The time, issuer and audience checks of RFC 7519 §4.1 against the
// caller's clock and expectations, and which kind of token it is.
#pragma once

#include "auth/claims.h"
#include "auth/verify_error.h"
#include "auth/verify_options.h"

namespace switchboard::auth {

// In order, the first failure wins:
//   kExpired          exp present and now >= exp + leeway (§4.1.4: the token
//                     is valid only before exp)
//   kNotYetValid      nbf present and now < nbf - leeway (§4.1.5)
//   kIssuedInFuture   iat present and now < iat - leeway
//   kWrongIssuer      options.issuer set and iss differs (absent counts)
//   kWrongAudience    options.audience set and not among aud (absent counts)
//   kMissingExpiry    options.require_exp and no exp
//   kNotConnectionToken / kNotSubscriptionToken
//                     a "channel" claim present / absent, against options.use
// Arithmetic saturates, so extreme values cannot wrap into acceptance.
VerifyError check_claims(const Claims& claims, const VerifyOptions& options);

}  // namespace switchboard::auth
