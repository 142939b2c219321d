#include "auth/ecdsa_signature.h"

#include <string>

#include <gtest/gtest.h>

namespace switchboard::auth {
namespace {

std::string raw_of(unsigned char r_fill, unsigned char s_fill, std::size_t size) {
  std::string raw(size / 2, static_cast<char>(r_fill));
  raw.append(size / 2, static_cast<char>(s_fill));
  return raw;
}

TEST(EcdsaSignature, RoundTripsThroughDer) {
  for (std::size_t size : {64u, 96u}) {
    const std::string raw = raw_of(0x81, 0x01, size);
    std::string der;
    ASSERT_TRUE(ecdsa_raw_to_der(raw, size, &der));
    EXPECT_EQ(static_cast<unsigned char>(der[0]), 0x30);  // SEQUENCE
    std::string back;
    ASSERT_TRUE(ecdsa_der_to_raw(der, size, &back));
    EXPECT_EQ(back, raw);
  }
}

// Leading zero bytes shorten r and s in DER; raw keeps them padded.
TEST(EcdsaSignature, KeepsLeadingZeros) {
  std::string raw(64, '\0');
  raw[31] = 1;
  raw[63] = 2;
  std::string der;
  ASSERT_TRUE(ecdsa_raw_to_der(raw, 64, &der));
  std::string back;
  ASSERT_TRUE(ecdsa_der_to_raw(der, 64, &back));
  EXPECT_EQ(back, raw);
}

TEST(EcdsaSignature, RawMustBeExactlyTheSize) {
  std::string der;
  EXPECT_FALSE(ecdsa_raw_to_der(raw_of(1, 1, 62), 64, &der));
  EXPECT_FALSE(ecdsa_raw_to_der(raw_of(1, 1, 66), 64, &der));
  EXPECT_FALSE(ecdsa_raw_to_der(raw_of(1, 1, 64), 96, &der));
  EXPECT_FALSE(ecdsa_raw_to_der("", 64, &der));
  EXPECT_FALSE(ecdsa_raw_to_der("", 0, &der));
}

TEST(EcdsaSignature, RefusesBadDer) {
  std::string raw;
  EXPECT_FALSE(ecdsa_der_to_raw("", 64, &raw));
  EXPECT_FALSE(ecdsa_der_to_raw("\x30\x00", 64, &raw));
  std::string der;
  ASSERT_TRUE(ecdsa_raw_to_der(raw_of(0x7f, 0x7f, 96), 96, &der));
  EXPECT_FALSE(ecdsa_der_to_raw(der, 64, &raw));  // r, s do not fit 32 bytes
  EXPECT_FALSE(ecdsa_der_to_raw(der + "x", 96, &raw));  // trailing bytes
}

}  // namespace
}  // namespace switchboard::auth
