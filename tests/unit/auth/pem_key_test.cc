#include "auth/pem_key.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "test_keys.h"

namespace switchboard::auth {
namespace {

using testing::rsa_key;

bool has_private_part(EVP_PKEY* key) {
  BIGNUM* d = nullptr;
  const bool found = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_D, &d) == 1;
  BN_free(d);
  return found;
}

TEST(PemKey, ReadsAPublicKey) {
  const auto key = public_key_from_pem(rsa_key().public_pem);
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), rsa_key().key.get()), 1);
}

TEST(PemKey, ReadsPkcs1RsaPublicKey) {
  // "RSA PUBLIC KEY" (PKCS#1) through the encoder API.
  std::string pkcs1;
  {
    BIO* out = BIO_new(BIO_s_mem());
    OSSL_ENCODER_CTX* encoder =
        OSSL_ENCODER_CTX_new_for_pkey(rsa_key().key.get(), EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", nullptr);
    ASSERT_NE(encoder, nullptr);
    ASSERT_EQ(OSSL_ENCODER_to_bio(encoder, out), 1);
    OSSL_ENCODER_CTX_free(encoder);
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    pkcs1.assign(data, static_cast<std::size_t>(size));
    BIO_free(out);
  }
  ASSERT_NE(pkcs1.find("BEGIN RSA PUBLIC KEY"), std::string::npos);
  const auto key = public_key_from_pem(pkcs1);
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), rsa_key().key.get()), 1);
}

// A private key is accepted, but only its public half is kept.
TEST(PemKey, KeepsOnlyThePublicHalfOfAPrivateKey) {
  const auto key = public_key_from_pem(rsa_key().private_pem);
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), rsa_key().key.get()), 1);
  EXPECT_FALSE(has_private_part(key->get()));
  EXPECT_TRUE(has_private_part(rsa_key().key.get()));
}

TEST(PemKey, ReadsACertificatesKey) {
  X509* certificate = X509_new();
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
  X509_set_pubkey(certificate, testing::p256_key().key.get());
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  ASSERT_GT(X509_sign(certificate, testing::p256_key().key.get(), EVP_sha256()), 0);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, certificate);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  X509_free(certificate);

  const auto key = public_key_from_pem(pem);
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), testing::p256_key().key.get()), 1);
}

// An encrypted key fails instead of prompting for a passphrase.
TEST(PemKey, RefusesAnEncryptedPrivateKey) {
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, rsa_key().key.get(), EVP_aes_128_cbc(), nullptr, 0, nullptr,
                                          const_cast<char*>("passphrase")),
            1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  ASSERT_NE(pem.find("ENCRYPTED"), std::string::npos);
  const auto public_key = public_key_from_pem(pem);
  ASSERT_FALSE(public_key.ok());
  EXPECT_FALSE(public_key.error().empty());
  const auto private_key = private_key_from_pem(pem);
  ASSERT_FALSE(private_key.ok());
  EXPECT_FALSE(private_key.error().empty());
}

TEST(PemKey, RefusesGarbage) {
  const auto empty = public_key_from_pem("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), "not a PEM public key, unencrypted private key or certificate");
  EXPECT_FALSE(public_key_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
  EXPECT_EQ(ERR_peek_error(), 0u);  // the error queue is left clean
}

TEST(PemKey, PrivateKeyNeedsAPrivateKey) {
  EXPECT_TRUE(private_key_from_pem(rsa_key().private_pem).ok());
  const auto key = private_key_from_pem(rsa_key().public_pem);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error(), "not an unencrypted PEM private key");
}

}  // namespace
}  // namespace switchboard::auth
