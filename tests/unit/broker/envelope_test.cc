// RedisBroker's envelopes on Redis pub/sub: round trips, and anything that
// is not one refused (a payload from Redis is input like any other).
#include "broker/envelope.h"

#include <gtest/gtest.h>

namespace switchboard::broker {
namespace {

TEST(Envelope, PublicationAsTheScriptSendsIt) {
  ChannelEnvelope got;
  // The publish script prepends "<offset> ". (Views into the payload: it must outlive them.)
  const std::string payload = "42 " + format_publication("n1", 7, R"({"a":"x\ny"})");
  ASSERT_TRUE(parse_channel_envelope(payload, &got));
  EXPECT_FALSE(got.is_event);
  EXPECT_EQ(got.offset, 42u);
  EXPECT_EQ(got.node, "n1");
  EXPECT_EQ(got.exclude, 7u);
  EXPECT_EQ(got.body, R"({"a":"x\ny"})");
}

TEST(Envelope, EventsIncludingASweptMembersLeave) {
  ChannelEnvelope got;
  const std::string payload = format_event("-", "{\"type\":\"leave\"}\nsecond line");
  ASSERT_TRUE(parse_channel_envelope(payload, &got));
  EXPECT_TRUE(got.is_event);
  EXPECT_EQ(got.node, "-");
  EXPECT_EQ(got.body, "{\"type\":\"leave\"}\nsecond line");  // the header ends at the first newline
}

TEST(Envelope, UserMessagesAndQuestions) {
  UserEnvelope user;
  const std::string to_user =
      format_user_envelope("abc", UserMessage{"bob", UserMessageKind::kDisconnect, "4000 1 bye", true});
  ASSERT_TRUE(parse_user_envelope(to_user, &user));
  EXPECT_EQ(user.node, "abc");
  EXPECT_EQ(user.kind, UserMessageKind::kDisconnect);
  EXPECT_TRUE(user.elsewhere_only);
  EXPECT_EQ(user.text, "4000 1 bye");
  QuestionEnvelope question;
  const std::string asked = format_question(9, "node-a", "user bob");
  ASSERT_TRUE(parse_question(asked, &question));
  EXPECT_EQ(question.id, 9u);
  EXPECT_EQ(question.asker, "node-a");
  EXPECT_EQ(question.text, "user bob");
  std::uint64_t id = 0;
  std::string_view answer;
  const std::string answered = format_answer(9, "{\"connections\":1}");
  ASSERT_TRUE(parse_answer(answered, &id, &answer));
  EXPECT_EQ(id, 9u);
  EXPECT_EQ(answer, "{\"connections\":1}");
}

TEST(Envelope, RefusesWhatIsNotAnEnvelope) {
  ChannelEnvelope channel;
  for (std::string_view bad : {"", "probe", "1 n 0", "0 n 0\nx", "x n 0\nd", "1  0\nd", "1 n x\nd", "1 n\nd", "e \nf",
                               "-1 n 0\nd", "1 n 0 9\nd"}) {
    EXPECT_FALSE(parse_channel_envelope(bad, &channel)) << bad;
  }
  UserEnvelope user;
  for (std::string_view bad : {"", "n m 0", "n x 0\nt", "n m 2\nt", " m 0\nt", "nm0\nt", "a b m 0\nt"}) {
    EXPECT_FALSE(parse_user_envelope(bad, &user)) << bad;
  }
  QuestionEnvelope question;
  for (std::string_view bad : {"", "1 a", "x a\nq", "1\nq", "1 \nq"})
    EXPECT_FALSE(parse_question(bad, &question)) << bad;
  std::uint64_t id = 0;
  std::string_view answer;
  for (std::string_view bad : {"", "12", "x\na", "\na"}) EXPECT_FALSE(parse_answer(bad, &id, &answer)) << bad;
}

}  // namespace
}  // namespace switchboard::broker
