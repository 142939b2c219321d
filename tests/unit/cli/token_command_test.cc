// `switchboard token`: durations and the claims it writes.
#include "cli/token_command.h"

#include <gtest/gtest.h>

namespace switchboard::cli {
namespace {

TEST(TokenCommand, Durations) {
  EXPECT_EQ(parse_duration_s("3600"), 3600u);
  EXPECT_EQ(parse_duration_s("90s"), 90u);
  EXPECT_EQ(parse_duration_s("30m"), 1800u);
  EXPECT_EQ(parse_duration_s("12h"), 43200u);
  EXPECT_EQ(parse_duration_s("7d"), 604800u);
  EXPECT_EQ(parse_duration_s("0"), 0u);
  for (const char* bad : {"", "h", "1x", "-1", "1.5h", "99999999999999d"}) {
    EXPECT_FALSE(parse_duration_s(bad).has_value()) << bad;
  }
}

TEST(TokenCommand, Payload) {
  TokenRequest request;
  request.user = "alice";
  request.ttl_s = 60;
  EXPECT_EQ(token_payload(request, 1000), R"({"sub":"alice","iat":1000,"exp":1060})");
  request.ttl_s = 0;
  request.has_channels = true;
  request.channels = {"chat:*", "news"};
  request.channel = "$team";
  request.info_json = R"({"name":"Al"})";
  request.issuer = "iss\"x";
  request.audience = "aud";
  EXPECT_EQ(token_payload(request, 5),
            R"({"sub":"alice","iat":5,"channels":["chat:*","news"],"channel":"$team","info":{"name":"Al"},)"
            R"("iss":"iss\"x","aud":"aud"})");
}

}  // namespace
}  // namespace switchboard::cli
