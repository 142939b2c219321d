#include "base/ascii.h"

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

TEST(Ascii, CaseInsensitiveOnlyForLetters) {
  EXPECT_TRUE(ascii_iequals("Sec-WebSocket-Key", "sec-websocket-key"));
  EXPECT_FALSE(ascii_iequals("a", "ab"));
  EXPECT_FALSE(ascii_iequals("@", "`"));  // 0x40 vs 0x60: not a case pair
  EXPECT_FALSE(ascii_iequals("-", "\r"));
  EXPECT_EQ(ascii_lower('Z'), 'z');
  EXPECT_EQ(ascii_lower('['), '[');
}

}  // namespace
}  // namespace switchboard::base
