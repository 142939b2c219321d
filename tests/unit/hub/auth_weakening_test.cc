#include "hub/auth_weakening.h"

#include <gtest/gtest.h>

namespace switchboard::hub {
namespace {

AuthConfig checking() {
  AuthConfig config;
  config.required = true;
  config.hmac_secret = "a-secret-of-at-least-thirty-two-bytes";
  config.issuer = "https://id.example";
  config.audience = "switchboard";
  return config;
}

TEST(AuthWeakening, TheSameOrStricterIsFine) {
  EXPECT_EQ(weakening(checking(), checking()), std::nullopt);
  EXPECT_EQ(weakening(AuthConfig{}, checking()), std::nullopt);
  EXPECT_EQ(weakening(AuthConfig{}, AuthConfig{}), std::nullopt);
}

TEST(AuthWeakening, OtherKeysAndValuesAreNotWeakenings) {
  AuthConfig next = checking();
  next.hmac_secret.clear();
  next.jwks_json = R"({"keys":[]})";
  next.issuer = "https://other.example";
  next.leeway_s = 60;
  EXPECT_EQ(weakening(checking(), next), std::nullopt);
}

TEST(AuthWeakening, EachCheckSwitchedOffIsNamed) {
  AuthConfig next = checking();
  next.required = false;
  EXPECT_NE(weakening(checking(), next).value_or("").find("auth.required"), std::string::npos);
  next = checking();
  next.required = false;
  next.hmac_secret.clear();
  EXPECT_NE(weakening(checking(), next).value_or("").find("auth.required"), std::string::npos);  // the first one found
  AuthConfig running = checking();
  running.required = false;
  EXPECT_NE(weakening(running, next).value_or("").find("every token key"), std::string::npos);
  next = checking();
  next.require_exp = false;
  EXPECT_NE(weakening(checking(), next).value_or("").find("auth.require_exp"), std::string::npos);
  next = checking();
  next.issuer.clear();
  EXPECT_NE(weakening(checking(), next).value_or("").find("auth.issuer"), std::string::npos);
  next = checking();
  next.audience.clear();
  EXPECT_NE(weakening(checking(), next).value_or("").find("auth.audience"), std::string::npos);
  // The emptied file: the defaults.
  EXPECT_NE(weakening(checking(), AuthConfig{}).value_or("").find("restart"), std::string::npos);
}

}  // namespace
}  // namespace switchboard::hub
