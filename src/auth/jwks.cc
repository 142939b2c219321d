#include "auth/jwks.h"

#include <simdjson.h>

#include <optional>

#include "auth/base64url.h"
#include "auth/json_object.h"
#include "auth/jwk_public_key.h"
#include "auth/key_check.h"

namespace switchboard::auth {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// Reads a string member; "" when absent or not a string.
std::string_view string_member(object jwk, std::string_view name, bool* wrong_type) {
  element value;
  if (jwk.at_key(name).get(value) != simdjson::SUCCESS) return {};
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) *wrong_type = true;
  return text;
}

// A required base64url member, decoded.
base::Result<std::string> decoded_member(object jwk, std::string_view name) {
  element value;
  std::string_view text;
  if (jwk.at_key(name).get(value) != simdjson::SUCCESS || value.get_string().get(text) != simdjson::SUCCESS) {
    return base::Error("missing \"" + std::string(name) + "\"");
  }
  std::string bytes;
  if (text.empty() || !base64url_decode(text, &bytes)) {
    return base::Error("\"" + std::string(name) + "\" is not base64url");
  }
  return bytes;
}

// The "alg" member as an Algorithm: nullopt when absent; an error when
// present but unknown.
base::Result<std::optional<Algorithm>> read_algorithm(std::string_view alg) {
  if (alg.empty()) return std::optional<Algorithm>();
  const std::optional<Algorithm> algorithm = algorithm_from_name(alg);
  if (!algorithm) return base::Error("unsupported alg \"" + std::string(alg) + "\"");
  return algorithm;
}

using KeyResult = base::Result<std::shared_ptr<const VerificationKey>>;

// A public key from its JWK members, checked against the algorithm it is for.
KeyResult verification_key(Algorithm algorithm, base::Result<std::shared_ptr<EVP_PKEY>> public_key) {
  if (!public_key) return base::Error(public_key.error());
  if (const base::Result<void> checked = check_key_for_algorithm(algorithm, public_key->get()); !checked) {
    return base::Error(checked.error());
  }
  return std::make_shared<const VerificationKey>(algorithm, std::string(), *std::move(public_key));
}

KeyResult rsa_key(object jwk, std::optional<Algorithm> algorithm) {
  if (!algorithm) return base::Error("an RSA key needs \"alg\"");
  const SignatureScheme scheme = signature_scheme(*algorithm);
  if (scheme != SignatureScheme::kRsaPkcs1 && scheme != SignatureScheme::kRsaPss) {
    return base::Error("alg " + std::string(algorithm_name(*algorithm)) + " does not fit an RSA key");
  }
  const base::Result<std::string> n = decoded_member(jwk, "n");
  if (!n) return base::Error(n.error());
  const base::Result<std::string> e = decoded_member(jwk, "e");
  if (!e) return base::Error(e.error());
  return verification_key(*algorithm, rsa_public_key(*n, *e));
}

KeyResult ec_key(object jwk, std::string_view crv, std::optional<Algorithm> algorithm) {
  Algorithm curve_algorithm = Algorithm::kES256;
  const char* group = nullptr;
  if (crv == "P-256") {
    curve_algorithm = Algorithm::kES256;
    group = "prime256v1";
  } else if (crv == "P-384") {
    curve_algorithm = Algorithm::kES384;
    group = "secp384r1";
  } else {
    return base::Error("unsupported EC curve \"" + std::string(crv) + "\"");
  }
  if (algorithm && *algorithm != curve_algorithm) {
    return base::Error("alg " + std::string(algorithm_name(*algorithm)) + " does not fit curve " + std::string(crv));
  }
  const base::Result<std::string> x = decoded_member(jwk, "x");
  if (!x) return base::Error(x.error());
  const base::Result<std::string> y = decoded_member(jwk, "y");
  if (!y) return base::Error(y.error());
  // RFC 7518 §6.2.1.2-3: each coordinate is the full curve size.
  const std::size_t size = ecdsa_signature_size(curve_algorithm) / 2;
  if (x->size() != size || y->size() != size) {
    return base::Error("\"x\" and \"y\" must be " + std::to_string(size) + " bytes");
  }
  return verification_key(curve_algorithm, ec_public_key(group, *x, *y));
}

KeyResult okp_key(object jwk, std::string_view crv, std::optional<Algorithm> algorithm) {
  if (crv != "Ed25519") return base::Error("unsupported OKP curve \"" + std::string(crv) + "\"");
  if (algorithm && *algorithm != Algorithm::kEdDSA) {
    return base::Error("alg " + std::string(algorithm_name(*algorithm)) + " does not fit curve Ed25519");
  }
  const base::Result<std::string> x = decoded_member(jwk, "x");
  if (!x) return base::Error(x.error());
  if (x->size() != 32) return base::Error("\"x\" must be 32 bytes");
  base::Result<std::shared_ptr<EVP_PKEY>> public_key = ed25519_public_key(*x);
  if (!public_key) return base::Error(public_key.error());
  return std::make_shared<const VerificationKey>(Algorithm::kEdDSA, std::string(), *std::move(public_key));
}

KeyResult oct_key(object jwk, std::optional<Algorithm> algorithm) {
  if (!algorithm) return base::Error("an oct key needs \"alg\"");
  if (signature_scheme(*algorithm) != SignatureScheme::kHmac) {
    return base::Error("alg " + std::string(algorithm_name(*algorithm)) + " does not fit an oct key");
  }
  base::Result<std::string> secret = decoded_member(jwk, "k");
  if (!secret) return base::Error(secret.error());
  if (const base::Result<void> checked = check_hmac_secret(*algorithm, *secret); !checked) {
    return base::Error(checked.error());
  }
  return std::make_shared<const VerificationKey>(*algorithm, *std::move(secret), nullptr);
}

// One JWK into *out. *skipped when its "use" is not "sig"; else success or
// why it is bad (out->key_id is set as soon as it is known, to name the key).
base::Result<void> read_jwk(element entry, JwksKey* out, bool* skipped) {
  object jwk;
  if (entry.get_object().get(jwk) != simdjson::SUCCESS) return base::Error("not a JSON object");
  bool wrong_type = false;
  const std::string_view use = string_member(jwk, "use", &wrong_type);
  const std::string_view kty = string_member(jwk, "kty", &wrong_type);
  const std::string_view kid = string_member(jwk, "kid", &wrong_type);
  const std::string_view alg = string_member(jwk, "alg", &wrong_type);
  const std::string_view crv = string_member(jwk, "crv", &wrong_type);
  if (wrong_type) return base::Error("\"use\", \"kty\", \"kid\", \"alg\" and \"crv\" must be strings");
  if (!use.empty() && use != "sig") {
    *skipped = true;
    return {};
  }
  if (kid.empty()) return base::Error("missing \"kid\"");
  out->key_id.assign(kid);
  const base::Result<std::optional<Algorithm>> algorithm = read_algorithm(alg);
  if (!algorithm) return base::Error(algorithm.error());
  KeyResult key = base::Error("missing \"kty\"");
  if (kty == "RSA") {
    key = rsa_key(jwk, *algorithm);
  } else if (kty == "EC") {
    key = ec_key(jwk, crv, *algorithm);
  } else if (kty == "OKP") {
    key = okp_key(jwk, crv, *algorithm);
  } else if (kty == "oct") {
    key = oct_key(jwk, *algorithm);
  } else if (!kty.empty()) {
    key = base::Error("unsupported kty \"" + std::string(kty) + "\"");
  }
  if (!key) return base::Error(key.error());
  out->key = *std::move(key);
  return {};
}

}  // namespace

base::Result<std::vector<JwksKey>> parse_jwks(std::string_view json) {
  object root;
  simdjson::dom::array entries;
  if (!parse_unique_object(json, &root) || root.at_key("keys").get_array().get(entries) != simdjson::SUCCESS) {
    return base::Error("jwks: expected a JSON object {\"keys\": [...]}");
  }
  std::vector<JwksKey> loaded;
  std::size_t index = 0;
  for (const element entry : entries) {
    JwksKey key;
    bool skipped = false;
    if (const base::Result<void> read = read_jwk(entry, &key, &skipped); !read) {
      const std::string name = key.key_id.empty() ? "#" + std::to_string(index) : "\"" + key.key_id + "\"";
      return base::Error("jwks key " + name + ": " + read.error());
    }
    if (!skipped) loaded.push_back(std::move(key));
    ++index;
  }
  if (loaded.empty()) return base::Error("jwks: no signing keys");
  return loaded;
}

}  // namespace switchboard::auth
