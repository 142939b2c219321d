#include "test_keys.h"

#include <stdexcept>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "auth/base64url.h"
#include "auth/digest.h"
#include "auth/ecdsa_signature.h"

namespace switchboard::auth::testing {
namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

TestKey make(EVP_PKEY* raw) {
  if (raw == nullptr) throw std::runtime_error("key generation failed");
  TestKey key;
  key.key = std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, raw, nullptr, nullptr, 0, nullptr, nullptr);
  key.private_pem = bio_text(bio);
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, raw);
  key.public_pem = bio_text(bio);
  BIO_free(bio);
  return key;
}

std::string bn_param(const TestKey& key, const char* name) {
  BIGNUM* number = nullptr;
  if (EVP_PKEY_get_bn_param(key.key.get(), name, &number) != 1) throw std::runtime_error("no bn param");
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(number)), '\0');
  BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(number);
  return bytes;
}

std::string octet_param(const TestKey& key, const char* name) {
  std::size_t size = 0;
  EVP_PKEY_get_octet_string_param(key.key.get(), name, nullptr, 0, &size);
  std::string bytes(size, '\0');
  if (EVP_PKEY_get_octet_string_param(key.key.get(), name, reinterpret_cast<unsigned char*>(bytes.data()), size,
                                      &size) != 1) {
    throw std::runtime_error("no octet param");
  }
  return bytes;
}

std::string with_extra(std::string jwk, std::string_view extra) {
  if (!extra.empty()) jwk += "," + std::string(extra);
  return jwk + "}";
}

}  // namespace

const TestKey& rsa_key() {
  static const TestKey key = make(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  return key;
}

const TestKey& other_rsa_key() {
  static const TestKey key = make(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048}));
  return key;
}

const TestKey& rsa_1024_key() {
  static const TestKey key = make(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
  return key;
}

const TestKey& p256_key() {
  static const TestKey key = make(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  return key;
}

const TestKey& other_p256_key() {
  static const TestKey key = make(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  return key;
}

const TestKey& p384_key() {
  static const TestKey key = make(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  return key;
}

const TestKey& ed25519_key() {
  static const TestKey key = make(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return key;
}

const TestKey& ed448_key() {
  static const TestKey key = make(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  return key;
}

std::string rsa_jwk(const TestKey& key, std::string_view kid, std::string_view alg, std::string_view extra) {
  std::string jwk = R"({"kty":"RSA","kid":")" + std::string(kid) + R"(")";
  if (!alg.empty()) jwk += R"(,"alg":")" + std::string(alg) + R"(")";
  jwk += R"(,"n":")" + base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" +
         base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_E)) + R"(")";
  return with_extra(jwk, extra);
}

std::string ec_jwk(const TestKey& key, std::string_view crv, std::string_view kid, std::string_view extra) {
  // The encoded public key is 0x04 || x || y (uncompressed, OpenSSL's default).
  const std::string point = octet_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
  const std::size_t size = (point.size() - 1) / 2;
  std::string jwk = R"({"kty":"EC","crv":")" + std::string(crv) + R"(","kid":")" + std::string(kid) +
                    R"(","x":")" + base64url_encode(point.substr(1, size)) + R"(","y":")" +
                    base64url_encode(point.substr(1 + size, size)) + R"(")";
  return with_extra(jwk, extra);
}

std::string okp_jwk(const TestKey& key, std::string_view kid, std::string_view extra) {
  std::string jwk = R"({"kty":"OKP","crv":"Ed25519","kid":")" + std::string(kid) + R"(","x":")" +
                    base64url_encode(octet_param(key, OSSL_PKEY_PARAM_PUB_KEY)) + R"(")";
  return with_extra(jwk, extra);
}

std::string oct_jwk(std::string_view secret, std::string_view kid, std::string_view alg, std::string_view extra) {
  std::string jwk = R"({"kty":"oct","kid":")" + std::string(kid) + R"(")";
  if (!alg.empty()) jwk += R"(,"alg":")" + std::string(alg) + R"(")";
  jwk += R"(,"k":")" + base64url_encode(secret) + R"(")";
  return with_extra(jwk, extra);
}

std::string jwks(std::string_view joined_keys) { return R"({"keys":[)" + std::string(joined_keys) + "]}"; }

std::string assemble(std::string_view header_json, std::string_view payload_json, std::string_view signature) {
  return base64url_encode(header_json) + "." + base64url_encode(payload_json) + "." + base64url_encode(signature);
}

std::string hmac_token(Algorithm algorithm, std::string_view secret, std::string_view header_json,
                       std::string_view payload_json) {
  const std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  std::string mac;
  if (!compute_hmac(algorithm, secret, input, &mac)) throw std::runtime_error("hmac failed");
  return input + "." + base64url_encode(mac);
}

std::string key_token(Algorithm algorithm, const TestKey& key, std::string_view header_json,
                      std::string_view payload_json) {
  const std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  std::size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSignInit(context, nullptr, fetched_digest(algorithm), nullptr, key.key.get()) != 1 ||
      EVP_DigestSign(context, nullptr, &size, data, input.size()) != 1) {
    throw std::runtime_error("sign init failed");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &size, data, input.size()) != 1) {
    throw std::runtime_error("sign failed");
  }
  EVP_MD_CTX_free(context);
  signature.resize(size);
  if (signature_scheme(algorithm) == SignatureScheme::kEcdsa) {
    std::string raw;
    if (!ecdsa_der_to_raw(signature, ecdsa_signature_size(algorithm), &raw)) throw std::runtime_error("der");
    signature = raw;
  }
  return input + "." + base64url_encode(signature);
}

Parts split(std::string_view token) {
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  return {std::string(token.substr(0, first)), std::string(token.substr(first + 1, second - first - 1)),
          std::string(token.substr(second + 1))};
}

std::string secret_of_size(std::size_t size) {
  std::string secret;
  for (std::size_t i = 0; i < size; ++i) secret += static_cast<char>('a' + i % 26);
  return secret;
}

}  // namespace switchboard::auth::testing
