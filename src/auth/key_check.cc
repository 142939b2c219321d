#include "auth/key_check.h"

#include <array>
#include <string_view>

#include <openssl/core_names.h>
#include <openssl/err.h>

#include "auth/openssl_handles.h"

namespace switchboard::auth {
namespace {

constexpr int kMinRsaBits = 2048;

base::Result<void> check_rsa(Algorithm algorithm, EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "RSA")) return base::Error(std::string(algorithm_name(algorithm)) + " needs an RSA key");
  if (EVP_PKEY_get_bits(key) < kMinRsaBits) return base::Error("RSA key is shorter than 2048 bits");
  return {};
}

base::Result<void> check_ec(Algorithm algorithm, EVP_PKEY* key) {
  const std::string_view wanted = algorithm == Algorithm::kES256 ? "prime256v1" : "secp384r1";
  const std::string_view curve = algorithm == Algorithm::kES256 ? "P-256" : "P-384";
  const std::string mismatch = std::string(algorithm_name(algorithm)) + " needs an EC key on " + std::string(curve);
  if (!EVP_PKEY_is_a(key, "EC")) return base::Error(mismatch);
  std::array<char, 64> group{};
  std::size_t group_size = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &group_size) != 1) {
    ERR_clear_error();
    return base::Error(mismatch);
  }
  if (std::string_view(group.data(), group_size) != wanted) return base::Error(mismatch);
  // The point must lie on the curve; a key built from JWKS coordinates is
  // otherwise unchecked.
  PkeyCtxHandle context(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (context == nullptr || EVP_PKEY_public_check(context.get()) != 1) {
    ERR_clear_error();
    return base::Error("EC public key is not a valid point on " + std::string(curve));
  }
  return {};
}

}  // namespace

base::Result<void> check_key_for_algorithm(Algorithm algorithm, EVP_PKEY* key) {
  if (key == nullptr) return base::Error("no key");
  switch (signature_scheme(algorithm)) {
    case SignatureScheme::kHmac:
      return base::Error(std::string(algorithm_name(algorithm)) + " takes a secret, not a public key");
    case SignatureScheme::kRsaPkcs1:
    case SignatureScheme::kRsaPss:
      return check_rsa(algorithm, key);
    case SignatureScheme::kEcdsa:
      return check_ec(algorithm, key);
    case SignatureScheme::kEdDsa:
      if (!EVP_PKEY_is_a(key, "ED25519")) return base::Error("EdDSA needs an Ed25519 key");
      return {};
  }
  return base::Error("unknown algorithm");
}

base::Result<void> check_hmac_secret(Algorithm algorithm, std::string_view secret) {
  if (signature_scheme(algorithm) != SignatureScheme::kHmac) {
    return base::Error(std::string(algorithm_name(algorithm)) + " needs a public key, not a secret");
  }
  if (secret.size() < digest_size(algorithm)) {
    return base::Error(std::string(algorithm_name(algorithm)) + " secret must be at least " +
                       std::to_string(digest_size(algorithm)) + " bytes");
  }
  return {};
}

}  // namespace switchboard::auth
