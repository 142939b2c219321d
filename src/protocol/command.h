// Protocol v1 client commands (docs/PROTOCOL.md): one JSON object per text
// frame, parsed and checked with simdjson's DOM parser, which validates the
// whole document, so nothing malformed is ever forwarded to other clients.
//
// One CommandParser per worker thread: it keeps its buffers between
// commands, and the views in a Command point into them until the next parse.
//
// simdjson stays out of this header: it is a 1.2 MB single header, and
// every hub source includes this one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/error_code.h"

namespace simdjson::dom {
class parser;
}  // namespace simdjson::dom

namespace switchboard::protocol {

enum class CommandType : std::uint8_t {
  kConnect,
  kRefresh,
  kSubscribe,
  kUnsubscribe,
  kPublish,
  kRpc,
  kSend,
  kPresence,
  kHistory,
  kPing,
};

// The largest id a JavaScript client can hold exactly (2^53 - 1).
inline constexpr std::uint64_t kMaxId = (std::uint64_t{1} << 53) - 1;

struct Command {
  CommandType type = CommandType::kPing;
  std::uint64_t id = 0;
  std::string_view channel;   // subscribe, unsubscribe, publish, presence, history
  std::string_view user;      // send
  std::string_view method;    // rpc
  bool has_token = false;     // connect, refresh (always), subscribe: a token was given
  std::string_view token;     // connect, refresh: a connection token; subscribe: a subscription token
  std::string data;           // publish, send, rpc: the `data` value, minified JSON ("null" when rpc has none)
  bool exclude_self = false;  // publish: not to the publisher's own connection
  // subscribe: any of recover, since, latest was given (the reply then
  // says whether the channel is recoverable, also when it is not).
  bool stream_fields = false;
  bool recover = false;  // subscribe: recover from since
  bool latest = false;   // subscribe: the newest kept publication with the reply
  // subscribe (required with recover), history (optional): a stream position.
  bool has_since = false;
  std::uint64_t since_offset = 0;
  std::string_view since_epoch;
  // history: at most limit publications (has_limit false: all kept), newest first when reverse.
  bool has_limit = false;
  std::uint64_t limit = 0;
  bool reverse = false;
};

struct CommandError {
  ErrorCode code = ErrorCode::kMalformed;
  std::uint64_t id = 0;  // 0 when the command's id could not be read
  std::string message;
};

class CommandParser {
 public:
  CommandParser();
  ~CommandParser();
  CommandParser(const CommandParser&) = delete;
  CommandParser& operator=(const CommandParser&) = delete;

  // True with *command filled, or false with *error saying why; the views in
  // *command stay valid until the next call.
  bool parse(std::string_view text, Command* command, CommandError* error);

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
};

const char* command_name(CommandType type);

// Is text one whole, valid JSON value? For JSON that reaches clients from
// elsewhere than a client (the C++ API, rpc answers). Any thread.
bool is_json(std::string_view text);

}  // namespace switchboard::protocol
