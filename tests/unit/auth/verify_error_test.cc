#include "auth/verify_error.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace switchboard::auth {
namespace {

TEST(VerifyError, EveryErrorHasADistinctLowerCaseDescription) {
  std::set<std::string_view> seen;
  for (int i = 0; i <= static_cast<int>(VerifyError::kNotSubscriptionToken); ++i) {
    const std::string_view text = describe(static_cast<VerifyError>(i));
    EXPECT_FALSE(text.empty());
    EXPECT_NE(text, "unknown error") << i;
    for (char c : text) EXPECT_FALSE(c >= 'A' && c <= 'Z') << text;
    EXPECT_TRUE(seen.insert(text).second) << text;
  }
  EXPECT_EQ(describe(VerifyError::kExpired), "token expired");
}

}  // namespace
}  // namespace switchboard::auth
