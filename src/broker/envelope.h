// What RedisBroker puts on Redis pub/sub, and reads back: the envelopes
// of publications, join/leave events, user messages, and questions between
// nodes. Pure (no I/O), so they are unit-tested and fuzzed
// (fuzz/broker_envelope_fuzz.cc): a payload from Redis is input like any
// other, and one that is not an envelope is dropped, never trusted.
//
// The node id in each envelope tells a node its own messages from the
// others'. Bodies (JSON, frames) never hold a raw newline, but the parsers
// do not depend on that: the header ends at the first newline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/broker.h"

namespace switchboard::broker {

// On a channel's Redis channel: a numbered publication
// "<offset> <node> <exclude>\n<data>" (the publish script prepends
// "<offset> " to what format_publication makes; on a channel with a
// stream, "<offset>:<epoch> "), or a join/leave event
// "e <node>\n<frame>" ("-" for the node when nobody in particular sent it:
// a dead node's members swept by another).
struct ChannelEnvelope {
  bool is_event = false;
  std::uint64_t offset = 0;  // publications: from 1
  std::string_view epoch;    // publications on a channel with a stream, else ""
  std::string_view node;
  std::uint64_t exclude = 0;  // publications: the publisher's client id, or 0
  std::string_view body;      // data (publications) or the frame (events)
};
std::string format_publication(std::string_view node, std::uint64_t exclude, std::string_view data);
std::string format_event(std::string_view node, std::string_view frame);
bool parse_channel_envelope(std::string_view payload, ChannelEnvelope* out);

// On a user's Redis channel: "<node> <m|d> <0|1>\n<text>".
struct UserEnvelope {
  std::string_view node;
  UserMessageKind kind = UserMessageKind::kDirect;
  bool elsewhere_only = false;
  std::string_view text;
};
std::string format_user_envelope(std::string_view node, const UserMessage& message);
bool parse_user_envelope(std::string_view payload, UserEnvelope* out);

// Questions "<id> <asking node>\n<question>" and answers "<id>\n<answer>".
struct QuestionEnvelope {
  std::uint64_t id = 0;
  std::string_view asker;
  std::string_view text;
};
std::string format_question(std::uint64_t id, std::string_view asker, std::string_view question);
bool parse_question(std::string_view payload, QuestionEnvelope* out);
std::string format_answer(std::uint64_t id, std::string_view answer);
bool parse_answer(std::string_view payload, std::uint64_t* id, std::string_view* answer);

}  // namespace switchboard::broker
