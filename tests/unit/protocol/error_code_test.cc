#include "protocol/error_code.h"

#include <string_view>

#include <gtest/gtest.h>

namespace switchboard::protocol {
namespace {

// Every code of protocol v1 has a message of its own, so a client that gets
// a bare code can still show a reader why.
TEST(DefaultMessage, EveryCodeHasOne) {
  for (std::uint16_t value = static_cast<std::uint16_t>(ErrorCode::kInternal);
       value <= static_cast<std::uint16_t>(ErrorCode::kTooManyRpcs); ++value) {
    // "error" is what a value outside the enum gets.
    EXPECT_STRNE(default_message(static_cast<ErrorCode>(value)), "error") << value;
  }
  EXPECT_NE(std::string_view(default_message(ErrorCode::kBadChannel)),
            std::string_view(default_message(ErrorCode::kBadUser)));
}

// The codes are the wire contract (docs/PROTOCOL.md): pin the ones other
// programs test for.
TEST(WireValues, ArePinned) {
  EXPECT_EQ(static_cast<int>(ErrorCode::kInternal), 100);
  EXPECT_EQ(static_cast<int>(ErrorCode::kInvalidToken), 120);
  EXPECT_EQ(static_cast<int>(ErrorCode::kTooManyRpcs), 122);
  EXPECT_EQ(static_cast<int>(ServerCloseCode::kInvalidToken), 4001);
  EXPECT_EQ(static_cast<int>(ServerCloseCode::kTokenExpired), 4002);
  EXPECT_EQ(static_cast<int>(ServerCloseCode::kAuthTimeout), 4003);
  EXPECT_EQ(static_cast<int>(ServerCloseCode::kDisconnected), 4004);
}

}  // namespace
}  // namespace switchboard::protocol
