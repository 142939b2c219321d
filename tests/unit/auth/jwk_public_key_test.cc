#include "auth/jwk_public_key.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>

#include "test_keys.h"

namespace switchboard::auth {
namespace {

std::string bn_bytes(EVP_PKEY* key, const char* name) {
  BIGNUM* number = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &number), 1);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(number)), '\0');
  BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(number);
  return bytes;
}

std::string octets(EVP_PKEY* key, const char* name) {
  std::string bytes(200, '\0');
  std::size_t size = 0;
  EXPECT_EQ(
      EVP_PKEY_get_octet_string_param(key, name, reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), &size),
      1);
  bytes.resize(size);
  return bytes;
}

TEST(JwkPublicKey, RebuildsRsa) {
  EVP_PKEY* original = testing::rsa_key().key.get();
  const auto key = rsa_public_key(bn_bytes(original, OSSL_PKEY_PARAM_RSA_N), bn_bytes(original, OSSL_PKEY_PARAM_RSA_E));
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), original), 1);
}

TEST(JwkPublicKey, RebuildsEc) {
  EVP_PKEY* original = testing::p384_key().key.get();
  const std::string point = octets(original, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
  const auto key = ec_public_key("secp384r1", point.substr(1, 48), point.substr(49, 48));
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), original), 1);
}

TEST(JwkPublicKey, RefusesAPointOffTheCurve) {
  const std::string point = octets(testing::p256_key().key.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
  std::string y = point.substr(33, 32);
  y[31] = static_cast<char>(y[31] ^ 1);
  const auto key = ec_public_key("prime256v1", point.substr(1, 32), y);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error(), "invalid EC point");
}

TEST(JwkPublicKey, RebuildsEd25519) {
  EVP_PKEY* original = testing::ed25519_key().key.get();
  const auto key = ed25519_public_key(octets(original, OSSL_PKEY_PARAM_PUB_KEY));
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), original), 1);
  EXPECT_FALSE(ed25519_public_key("short").ok());
}

TEST(JwkPublicKey, RefusesAHugeModulus) {
  const auto key = rsa_public_key(std::string(4096, '\xff'), "\x01\x00\x01");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error(), "RSA key longer than 16384 bits");
}

}  // namespace
}  // namespace switchboard::auth
