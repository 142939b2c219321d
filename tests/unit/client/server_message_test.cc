// Decoding every server message of docs/PROTOCOL.md, as the hub's own
// encoders write them, and refusing what is not one.
#include "client/server_message.h"

#include <gtest/gtest.h>

#include "protocol/encode.h"

namespace switchboard::client {
namespace {

ServerMessage decoded(const std::string& text) {
  MessageDecoder decoder;
  base::Result<ServerMessage> message = decoder.decode(text);
  EXPECT_TRUE(message.ok()) << text << ": " << message.error();
  return message.value_or(ServerMessage{});
}

TEST(ServerMessage, ReplyErrorPong) {
  ServerMessage reply = decoded(protocol::encode_reply(5, R"({"offset":3})"));
  EXPECT_EQ(reply.type, ServerMessageType::kReply);
  EXPECT_EQ(reply.id, 5u);
  EXPECT_EQ(reply.data, R"({"offset":3})");

  ServerMessage error = decoded(protocol::encode_error(6, protocol::ErrorCode::kBadChannel, "bad \"name\""));
  EXPECT_EQ(error.type, ServerMessageType::kError);
  EXPECT_EQ(error.id, 6u);
  EXPECT_EQ(error.code, 106);
  EXPECT_EQ(error.text, "bad \"name\"");
  EXPECT_EQ(decoded(protocol::encode_error(0, protocol::ErrorCode::kBadId, "no id")).id, 0u);

  ServerMessage pong = decoded(protocol::encode_pong(7));
  EXPECT_EQ(pong.type, ServerMessageType::kPong);
  EXPECT_EQ(pong.id, 7u);
}

TEST(ServerMessage, ChannelEvents) {
  ServerMessage message = decoded(protocol::encode_message("chat:lobby", 12, R"({"text":"hi"})"));
  EXPECT_EQ(message.type, ServerMessageType::kMessage);
  EXPECT_EQ(message.channel, "chat:lobby");
  EXPECT_EQ(message.offset, 12u);
  EXPECT_EQ(message.data, R"({"text":"hi"})");

  ServerMessage join = decoded(protocol::encode_join("chat:lobby", "bob", "512", R"({"role":"x"})"));
  EXPECT_EQ(join.type, ServerMessageType::kJoin);
  EXPECT_EQ(join.user, std::optional<std::string>("bob"));
  EXPECT_EQ(join.client, "512");
  EXPECT_EQ(join.info, R"({"role":"x"})");

  ServerMessage leave = decoded(protocol::encode_leave("chat:lobby", "", "513"));
  EXPECT_EQ(leave.type, ServerMessageType::kLeave);
  EXPECT_EQ(leave.user, std::nullopt);  // anonymous
  EXPECT_EQ(leave.client, "513");
}

// A `reset` (docs/PROTOCOL.md): the new position of a subscription whose
// stream's past was lost; without its channel, epoch or offset it cannot be
// taken, so it is refused.
TEST(ServerMessage, Reset) {
  ServerMessage reset = decoded(R"({"type":"reset","channel":"feed:a","epoch":"E2","offset":7})");
  EXPECT_EQ(reset.type, ServerMessageType::kReset);
  EXPECT_EQ(reset.channel, "feed:a");
  EXPECT_EQ(reset.epoch, "E2");
  EXPECT_EQ(reset.offset, 7u);
  EXPECT_EQ(decoded(R"({"type":"reset","channel":"c","epoch":"E","offset":0})").offset, 0u);
  MessageDecoder decoder;
  for (const char* bad :
       {R"({"type":"reset","epoch":"E","offset":1})", R"({"type":"reset","channel":"c","offset":1})",
        R"({"type":"reset","channel":"c","epoch":"E"})", R"({"type":"reset","channel":"c","epoch":5,"offset":1})",
        R"({"type":"reset","channel":"c","epoch":"E","offset":-1})"}) {
    EXPECT_FALSE(decoder.decode(bad).ok()) << bad;
  }
}

// A message published while the broker was unreachable carries offset 0.
TEST(ServerMessage, AnUnnumberedMessageHasOffsetZero) {
  EXPECT_EQ(decoded(protocol::encode_message("feed:a", 0, "1")).offset, 0u);
  EXPECT_EQ(decoded(R"({"type":"message","channel":"feed:a","data":1})").offset, 0u);
}

TEST(ServerMessage, DirectRefreshDisconnect) {
  ServerMessage direct = decoded(protocol::encode_direct("alice", "[1]"));
  EXPECT_EQ(direct.type, ServerMessageType::kDirect);
  EXPECT_EQ(direct.user, std::optional<std::string>("alice"));
  EXPECT_EQ(direct.data, "[1]");
  EXPECT_EQ(decoded(protocol::encode_direct("", "2")).user, std::nullopt);

  ServerMessage refresh = decoded(protocol::encode_refresh(30000));
  EXPECT_EQ(refresh.type, ServerMessageType::kRefresh);
  EXPECT_EQ(refresh.grace_ms, 30000u);

  ServerMessage drain = decoded(protocol::encode_disconnect(1001, "server shutting down", protocol::Reconnect::kYes));
  EXPECT_EQ(drain.type, ServerMessageType::kDisconnect);
  EXPECT_EQ(drain.code, 1001);
  EXPECT_EQ(drain.text, "server shutting down");
  EXPECT_TRUE(drain.reconnect);
  EXPECT_FALSE(decoded(protocol::encode_disconnect(4000, "kicked", protocol::Reconnect::kNo)).reconnect);
  EXPECT_FALSE(drain.answered);  // an older server says nothing: nothing is sent again
  EXPECT_TRUE(decoded(protocol::encode_disconnect(1001, "d", protocol::Reconnect::kYes, protocol::Answered::kYes)).answered);
  EXPECT_FALSE(decoded(protocol::encode_disconnect(1001, "d", protocol::Reconnect::kYes, protocol::Answered::kNo)).answered);
}

TEST(ServerMessage, UnknownTypesAreKeptForwardCompatible) {
  EXPECT_EQ(decoded(R"({"type":"history","id":1})").type, ServerMessageType::kUnknown);
  EXPECT_EQ(decoded(R"({"type":"reply","id":1})").data, "null");
}

TEST(ServerMessage, RefusesWhatIsNotAMessage) {
  MessageDecoder decoder;
  for (const char* bad :
       {"", "[]", "{\"id\":1}", "{\"type\":1}", "{\"type\":\"reply\"}", "{\"type\":\"reply\",\"id\":\"1\"}",
        "{\"type\":\"error\",\"id\":1}", "{\"type\":\"message\",\"offset\":1}", "{\"type\":\"reply\",\"id\":1"}) {
    const base::Result<ServerMessage> message = decoder.decode(bad);
    ASSERT_FALSE(message.ok()) << bad;
    EXPECT_NE(message.error(), "");
  }
}

TEST(ServerMessage, ConnectReply) {
  MessageDecoder decoder;
  std::string client;
  std::optional<std::string> user;
  EXPECT_TRUE(decoder.decode_connect_reply(R"({"client":"257","user":"alice"})", &client, &user));
  EXPECT_EQ(client, "257");
  EXPECT_EQ(user, std::optional<std::string>("alice"));
  EXPECT_TRUE(decoder.decode_connect_reply(R"({"client":"1-9","user":null})", &client, &user));
  EXPECT_EQ(user, std::nullopt);
  EXPECT_FALSE(decoder.decode_connect_reply("{}", &client, &user));
  EXPECT_FALSE(decoder.decode_connect_reply("null", &client, &user));
}

TEST(ServerMessage, SubscribeReplyWithoutAStream) {
  MessageDecoder decoder;
  base::Result<SubscribeReply> plain = decoder.decode_subscribe_reply("{}");
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_FALSE(plain->recoverable);
  EXPECT_FALSE(plain->recovered.has_value());
  base::Result<SubscribeReply> asked = decoder.decode_subscribe_reply(R"({"recoverable":false,"recovered":false})");
  ASSERT_TRUE(asked.ok()) << asked.error();
  EXPECT_FALSE(asked->recoverable);
  EXPECT_EQ(asked->recovered, std::optional<bool>(false));
}

TEST(ServerMessage, SubscribeReplyWithAStreamARecoveryAndTheLatest) {
  MessageDecoder decoder;
  base::Result<SubscribeReply> reply = decoder.decode_subscribe_reply(
      R"({"recoverable":true,"epoch":"E1","offset":9,"recovered":true,)"
      R"("publications":[{"offset":8,"data":{"a":1}},{"offset":9,"data":"x"}],"latest":{"offset":9,"data":"x"}})");
  ASSERT_TRUE(reply.ok()) << reply.error();
  EXPECT_TRUE(reply->recoverable);
  EXPECT_EQ(reply->epoch, "E1");
  EXPECT_EQ(reply->offset, 9u);
  EXPECT_EQ(reply->recovered, std::optional<bool>(true));
  ASSERT_EQ(reply->publications.size(), 2u);
  EXPECT_EQ(reply->publications[0].offset, 8u);
  EXPECT_EQ(reply->publications[0].data_json, R"({"a":1})");
  EXPECT_EQ(reply->publications[1].data_json, R"("x")");
  ASSERT_TRUE(reply->latest.has_value());
  EXPECT_EQ(reply->latest->offset, 9u);

  base::Result<SubscribeReply> no_latest =
      decoder.decode_subscribe_reply(R"({"recoverable":true,"epoch":"E1","offset":0,"latest":null})");
  ASSERT_TRUE(no_latest.ok()) << no_latest.error();
  EXPECT_FALSE(no_latest->latest.has_value());
}

TEST(ServerMessage, SubscribeReplyOfTheWrongShapeIsAnError) {
  MessageDecoder decoder;
  EXPECT_FALSE(decoder.decode_subscribe_reply("[]").ok());
  EXPECT_FALSE(decoder.decode_subscribe_reply(R"({"recoverable":"yes"})").ok());
  EXPECT_FALSE(decoder.decode_subscribe_reply(R"({"recoverable":true,"offset":1})").ok());  // no epoch
  EXPECT_FALSE(decoder.decode_subscribe_reply(R"({"recoverable":true,"epoch":"E","offset":-1})").ok());
  EXPECT_FALSE(
      decoder.decode_subscribe_reply(R"({"recoverable":true,"epoch":"E","offset":1,"publications":[{"data":1}]})")
          .ok());
}

TEST(ServerMessage, LocalOnlyPublishReply) {
  MessageDecoder decoder;
  EXPECT_TRUE(decoder.is_local_only(R"({"offset":0,"local_only":true})"));
  EXPECT_FALSE(decoder.is_local_only(R"({"offset":3})"));
  EXPECT_FALSE(decoder.is_local_only(R"({"offset":3,"epoch":"E"})"));
  EXPECT_FALSE(decoder.is_local_only(R"({"local_only":false})"));
  EXPECT_FALSE(decoder.is_local_only("null"));
}

}  // namespace
}  // namespace switchboard::client
