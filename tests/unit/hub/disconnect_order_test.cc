#include "hub/disconnect_order.h"

#include <gtest/gtest.h>

namespace switchboard::hub {
namespace {

TEST(DisconnectOrderTest, RoundTrips) {
  for (const DisconnectOrder& order : {DisconnectOrder{4000, false, "kicked by the admin"},
                                       DisconnectOrder{4999, true, ""}, DisconnectOrder{1001, true, "a b  c\n"}}) {
    DisconnectOrder back;
    ASSERT_TRUE(parse_disconnect_order(format_disconnect_order(order), &back));
    EXPECT_EQ(back.code, order.code);
    EXPECT_EQ(back.reconnect, order.reconnect);
    EXPECT_EQ(back.reason, order.reason);
  }
}

TEST(DisconnectOrderTest, RefusesWhatItCannotHaveWritten) {
  DisconnectOrder order;
  for (std::string_view text :
       {"", "4000", "4000 1", "4000 2 x", "x 1 y", "999 1 y", "5000 0 y", "4000 1x", "-4000 1 y", " 4000 1 y"}) {
    EXPECT_FALSE(parse_disconnect_order(text, &order)) << text;
  }
}

}  // namespace
}  // namespace switchboard::hub
