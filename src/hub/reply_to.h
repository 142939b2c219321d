// Where an owner sends the answer to a command it ran for someone else.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "protocol/error_code.h"

namespace switchboard::hub {

// Whether a `send` reply says if the user is connected.
enum class OnlineInReply : std::uint8_t { kShown, kHidden };

// What an answer is: the reply's JSON, or an error's message.
enum class AnswerKind : std::uint8_t { kReply, kError };

// A session's command (its worker, client and id; client 0 is nobody, e.g.
// the C++ API), or a callback, for the HTTP API, which runs on the owner's
// thread.
struct ReplyTo {
  unsigned worker = 0;
  std::uint64_t client = 0;
  std::uint64_t id = 0;
  // kReply: data is the reply's JSON; kError: code, and data the message.
  std::function<void(AnswerKind kind, protocol::ErrorCode code, std::string data)> callback;
};

}  // namespace switchboard::hub
