// The enum word tables: each word reads back to its value, and the
// messages list the words in table order.
#include "cli/setting_names.h"

#include <gtest/gtest.h>

#include "cli/serve_settings.h"

namespace switchboard::cli {
namespace {

TEST(SettingNames, SlowConsumerWordsReadBack) {
  for (const SlowConsumerPolicyName& entry : kSlowConsumerPolicyNames) {
    EXPECT_EQ(slow_consumer_policy_from_toml(entry.toml), entry.policy) << entry.toml;
    EXPECT_EQ(slow_consumer_policy_toml_name(entry.policy), entry.toml);
    // The two vocabularies do not mix.
    EXPECT_EQ(slow_consumer_policy_from_flag(entry.toml), std::nullopt) << entry.toml;
    if (entry.flag.empty()) continue;  // no flag word (disconnect, the default)
    EXPECT_EQ(slow_consumer_policy_from_flag(entry.flag), entry.policy) << entry.flag;
    EXPECT_EQ(slow_consumer_policy_from_toml(entry.flag), std::nullopt) << entry.flag;
  }
  EXPECT_EQ(slow_consumer_policy_from_flag(""), std::nullopt);
  EXPECT_EQ(slow_consumer_policy_toml_choices(), "\"disconnect\", \"drop\", \"drop-oldest\" or \"keep-latest\"");
}

TEST(SettingNames, SendPermissionWordsReadBack) {
  for (const SendPermissionName& entry : kSendPermissionNames) {
    EXPECT_EQ(send_permission_from_name(entry.name), entry.permission) << entry.name;
    EXPECT_EQ(send_permission_name(entry.permission), entry.name);
  }
  EXPECT_EQ(send_permission_choices(), "authenticated, anyone or token");
}

TEST(SettingNames, OneOf) {
  const std::string_view none[] = {""};
  EXPECT_EQ(one_of(std::vector<std::string_view>{}), "");
  EXPECT_EQ(one_of(std::vector<std::string_view>{"a"}), "a");
  EXPECT_EQ(one_of(std::vector<std::string_view>{"a", "b"}, "'"), "'a' or 'b'");
  EXPECT_EQ(one_of(std::vector<std::string_view>{"a", "b", "c"}), "a, b or c");
  EXPECT_EQ(one_of(none), "");
}

}  // namespace
}  // namespace switchboard::cli
