// Protocol v1 server messages (docs/PROTOCOL.md), written as compact JSON.
// Values named *_json are already JSON (a client's `data` as the command
// parser minified it, or a handler's answer) and go in as they are; every
// other string is escaped here (base/json_string.h). An empty user means an anonymous client and
// is written as null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/error_code.h"

namespace switchboard::protocol {

// A user id as a JSON string, or null for an anonymous one ("").
void append_json_user(std::string& out, std::string_view user);

std::string encode_reply(std::uint64_t id, std::string_view data_json);
// id 0: the command's id could not be read; written as null.
std::string encode_error(std::uint64_t id, ErrorCode code, std::string_view message);
std::string encode_pong(std::uint64_t id);

std::string encode_message(std::string_view channel, std::uint64_t offset, std::string_view data_json);
// The channel's stream lost the past this subscriber followed: it goes on
// at (epoch, offset) (docs/PROTOCOL.md "Streams").
std::string encode_reset(std::string_view channel, std::string_view epoch, std::uint64_t offset);
std::string encode_join(std::string_view channel, std::string_view user, std::string_view client,
                        std::string_view info_json);
std::string encode_leave(std::string_view channel, std::string_view user, std::string_view client);
// One entry of a presence answer: {"user":...,"client":...,"info":...}.
std::string encode_member(std::string_view user, std::string_view client, std::string_view info_json);
std::string encode_direct(std::string_view from_user, std::string_view data_json);
// The token expires: send `refresh` with a new one (docs/PROTOCOL.md).
std::string encode_refresh(std::uint64_t grace_ms);
// Whether a client told of a disconnect should come back (the
// `reconnect` field of docs/PROTOCOL.md "disconnect").
enum class Reconnect : std::uint8_t { kNo, kYes };
// Whether a drain's `disconnect` says that every command the connection
// sent before it was answered (kUnsaid: no `answered` field, as for a kick).
enum class Answered : std::uint8_t { kUnsaid, kYes, kNo };
// The server is about to close this connection (drain, kick): code and
// reason as in the close frame that follows, and whether to come back.
std::string encode_disconnect(std::uint16_t code, std::string_view reason, Reconnect reconnect,
                              Answered answered = Answered::kUnsaid);

}  // namespace switchboard::protocol
