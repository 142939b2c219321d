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

// A required base64url member, decoded. "" error on success.
std::string decoded_member(object jwk, std::string_view name, std::string* bytes) {
  element value;
  std::string_view text;
  if (jwk.at_key(name).get(value) != simdjson::SUCCESS || value.get_string().get(text) != simdjson::SUCCESS) {
    return "missing \"" + std::string(name) + "\"";
  }
  if (text.empty() || !base64url_decode(text, bytes)) return "\"" + std::string(name) + "\" is not base64url";
  return "";
}

// The "alg" member as an Algorithm: nullopt when absent; an error when
// present but unknown.
std::string read_algorithm(std::string_view alg, std::optional<Algorithm>* algorithm) {
  if (alg.empty()) return "";
  *algorithm = algorithm_from_name(alg);
  if (!*algorithm) return "unsupported alg \"" + std::string(alg) + "\"";
  return "";
}

std::string rsa_key(object jwk, std::optional<Algorithm> algorithm, std::shared_ptr<const VerificationKey>* key) {
  if (!algorithm) return "an RSA key needs \"alg\"";
  const SignatureScheme scheme = signature_scheme(*algorithm);
  if (scheme != SignatureScheme::kRsaPkcs1 && scheme != SignatureScheme::kRsaPss) {
    return "alg " + std::string(algorithm_name(*algorithm)) + " does not fit an RSA key";
  }
  std::string n;
  std::string e;
  if (std::string error = decoded_member(jwk, "n", &n); !error.empty()) return error;
  if (std::string error = decoded_member(jwk, "e", &e); !error.empty()) return error;
  base::Result<std::shared_ptr<EVP_PKEY>> parsed = rsa_public_key(n, e);
  if (!parsed) return parsed.error();
  std::shared_ptr<EVP_PKEY> public_key = *std::move(parsed);
  if (const base::Result<void> checked = check_key_for_algorithm(*algorithm, public_key.get()); !checked)
    return checked.error();
  *key = std::make_shared<const VerificationKey>(*algorithm, std::string(), std::move(public_key));
  return "";
}

std::string ec_key(object jwk, std::string_view crv, std::optional<Algorithm> algorithm,
                   std::shared_ptr<const VerificationKey>* key) {
  Algorithm curve_algorithm = Algorithm::kES256;
  const char* group = nullptr;
  if (crv == "P-256") {
    curve_algorithm = Algorithm::kES256;
    group = "prime256v1";
  } else if (crv == "P-384") {
    curve_algorithm = Algorithm::kES384;
    group = "secp384r1";
  } else {
    return "unsupported EC curve \"" + std::string(crv) + "\"";
  }
  if (algorithm && *algorithm != curve_algorithm) {
    return "alg " + std::string(algorithm_name(*algorithm)) + " does not fit curve " + std::string(crv);
  }
  std::string x;
  std::string y;
  if (std::string error = decoded_member(jwk, "x", &x); !error.empty()) return error;
  if (std::string error = decoded_member(jwk, "y", &y); !error.empty()) return error;
  // RFC 7518 §6.2.1.2-3: each coordinate is the full curve size.
  const std::size_t size = ecdsa_signature_size(curve_algorithm) / 2;
  if (x.size() != size || y.size() != size) return "\"x\" and \"y\" must be " + std::to_string(size) + " bytes";
  base::Result<std::shared_ptr<EVP_PKEY>> parsed = ec_public_key(group, x, y);
  if (!parsed) return parsed.error();
  std::shared_ptr<EVP_PKEY> public_key = *std::move(parsed);
  if (const base::Result<void> checked = check_key_for_algorithm(curve_algorithm, public_key.get()); !checked)
    return checked.error();
  *key = std::make_shared<const VerificationKey>(curve_algorithm, std::string(), std::move(public_key));
  return "";
}

std::string okp_key(object jwk, std::string_view crv, std::optional<Algorithm> algorithm,
                    std::shared_ptr<const VerificationKey>* key) {
  if (crv != "Ed25519") return "unsupported OKP curve \"" + std::string(crv) + "\"";
  if (algorithm && *algorithm != Algorithm::kEdDSA) {
    return "alg " + std::string(algorithm_name(*algorithm)) + " does not fit curve Ed25519";
  }
  std::string x;
  if (std::string error = decoded_member(jwk, "x", &x); !error.empty()) return error;
  if (x.size() != 32) return "\"x\" must be 32 bytes";
  base::Result<std::shared_ptr<EVP_PKEY>> parsed = ed25519_public_key(x);
  if (!parsed) return parsed.error();
  std::shared_ptr<EVP_PKEY> public_key = *std::move(parsed);
  *key = std::make_shared<const VerificationKey>(Algorithm::kEdDSA, std::string(), std::move(public_key));
  return "";
}

std::string oct_key(object jwk, std::optional<Algorithm> algorithm, std::shared_ptr<const VerificationKey>* key) {
  if (!algorithm) return "an oct key needs \"alg\"";
  if (signature_scheme(*algorithm) != SignatureScheme::kHmac) {
    return "alg " + std::string(algorithm_name(*algorithm)) + " does not fit an oct key";
  }
  std::string secret;
  if (std::string error = decoded_member(jwk, "k", &secret); !error.empty()) return error;
  if (const base::Result<void> checked = check_hmac_secret(*algorithm, secret); !checked) return checked.error();
  *key = std::make_shared<const VerificationKey>(*algorithm, std::move(secret), nullptr);
  return "";
}

// One JWK. *skipped when its "use" is not "sig"; else "" or why it is bad.
std::string read_jwk(element entry, JwksKey* out, bool* skipped) {
  object jwk;
  if (entry.get_object().get(jwk) != simdjson::SUCCESS) return "not a JSON object";
  bool wrong_type = false;
  const std::string_view use = string_member(jwk, "use", &wrong_type);
  const std::string_view kty = string_member(jwk, "kty", &wrong_type);
  const std::string_view kid = string_member(jwk, "kid", &wrong_type);
  const std::string_view alg = string_member(jwk, "alg", &wrong_type);
  const std::string_view crv = string_member(jwk, "crv", &wrong_type);
  if (wrong_type) return "\"use\", \"kty\", \"kid\", \"alg\" and \"crv\" must be strings";
  if (!use.empty() && use != "sig") {
    *skipped = true;
    return "";
  }
  if (kid.empty()) return "missing \"kid\"";
  out->key_id.assign(kid);
  std::optional<Algorithm> algorithm;
  if (std::string error = read_algorithm(alg, &algorithm); !error.empty()) return error;
  if (kty == "RSA") return rsa_key(jwk, algorithm, &out->key);
  if (kty == "EC") return ec_key(jwk, crv, algorithm, &out->key);
  if (kty == "OKP") return okp_key(jwk, crv, algorithm, &out->key);
  if (kty == "oct") return oct_key(jwk, algorithm, &out->key);
  if (kty.empty()) return "missing \"kty\"";
  return "unsupported kty \"" + std::string(kty) + "\"";
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
    const std::string error = read_jwk(entry, &key, &skipped);
    if (!error.empty()) {
      const std::string name = key.key_id.empty() ? "#" + std::to_string(index) : "\"" + key.key_id + "\"";
      return base::Error("jwks key " + name + ": " + error);
    }
    if (!skipped) loaded.push_back(std::move(key));
    ++index;
  }
  if (loaded.empty()) return base::Error("jwks: no signing keys");
  return loaded;
}

}  // namespace switchboard::auth
