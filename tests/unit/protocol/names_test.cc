// Which channel names, user ids and method names protocol v1 accepts.
#include "protocol/names.h"

#include <string>

#include <gtest/gtest.h>

namespace switchboard::protocol {
namespace {

TEST(Names, Channels) {
  for (const char* good : {"a", "chat:lobby", "user@example.com", "a/b=c+d", "x_y-z.0", "A:B:C"}) {
    EXPECT_TRUE(is_valid_channel(good)) << good;
  }
  for (const char* bad :
       {"", "with space", "quote\"", "back\\slash", "tab\t", "emoji\xF0\x9F\x98\x80", "a*b", "a$b", "$", "$$a"}) {
    EXPECT_FALSE(is_valid_channel(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_channel(std::string(kMaxChannelLength, 'c')));
  EXPECT_FALSE(is_valid_channel(std::string(kMaxChannelLength + 1, 'c')));
  EXPECT_TRUE(is_valid_channel("$" + std::string(kMaxChannelLength - 1, 'c')));
  EXPECT_FALSE(is_valid_channel("$" + std::string(kMaxChannelLength, 'c')));
}

TEST(Names, Patterns) {
  EXPECT_TRUE(channel_matches("*", "anything"));
  EXPECT_TRUE(channel_matches("chat:*", "chat:lobby"));
  EXPECT_FALSE(channel_matches("chat:*", "chat:"));
  EXPECT_FALSE(channel_matches("chat:*", "chat"));
  EXPECT_FALSE(channel_matches("chat:*", "chatter:x"));
  EXPECT_TRUE(channel_matches("news", "news"));
  EXPECT_FALSE(channel_matches("news", "news:x"));
}

TEST(Names, PrivateAndPersonalChannels) {
  EXPECT_TRUE(is_valid_channel("$team:plans"));
  EXPECT_TRUE(is_private_channel("$team:plans"));
  EXPECT_FALSE(is_private_channel("team:plans"));
  EXPECT_TRUE(is_valid_channel("notifications#alice"));
  EXPECT_TRUE(is_personal_channel("notifications#alice"));
  EXPECT_EQ(personal_channel_owner("notifications#alice"), "alice");
  EXPECT_EQ(personal_channel_owner("a#b#carol"), "carol");
  EXPECT_TRUE(is_personal_channel("nobody#"));
  EXPECT_EQ(personal_channel_owner("nobody#"), "");
  EXPECT_FALSE(is_personal_channel("chat:lobby"));
}

TEST(Names, Users) {
  for (const char* good : {"alice", "42", "a@b.c", "x:y", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"}) {
    EXPECT_TRUE(is_valid_user(good)) << good;
  }
  for (const char* bad : {"", "a b", "a\"b", "a\\b", "a\nb", "\x7F", "caf\xC3\xA9"}) {
    EXPECT_FALSE(is_valid_user(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_user(std::string(kMaxUserLength, 'u')));
  EXPECT_FALSE(is_valid_user(std::string(kMaxUserLength + 1, 'u')));
}

TEST(Names, Methods) {
  EXPECT_TRUE(is_valid_method("getUser"));
  EXPECT_TRUE(is_valid_method("users/get.v2-beta_1"));
  EXPECT_FALSE(is_valid_method(""));
  EXPECT_FALSE(is_valid_method("get user"));
  EXPECT_FALSE(is_valid_method("get:user"));
  EXPECT_FALSE(is_valid_method(std::string(kMaxMethodLength + 1, 'm')));
}

TEST(Names, Namespace) {
  EXPECT_EQ(channel_namespace("chat:lobby"), "chat");
  EXPECT_EQ(channel_namespace("chat:a:b"), "chat");
  EXPECT_EQ(channel_namespace("news"), "");
  EXPECT_EQ(channel_namespace(":x"), "");
}

}  // namespace
}  // namespace switchboard::protocol
