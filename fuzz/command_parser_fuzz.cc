// libFuzzer target: protocol v1 command parsing (protocol/command.h). Any input
// must either fail with an error code and message, or give a command whose
// fields hold what the protocol promises: valid names, an id in range, and
// `data` that is itself valid JSON (it is forwarded to other clients as is).
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/command.h"
#include "protocol/encode.h"
#include "protocol/names.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace switchboard::protocol;
  static CommandParser parser;
  static simdjson::dom::parser checker;
  Command command;
  CommandError error;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!parser.parse(text, &command, &error)) {
    check(!error.message.empty());
    check(error.id <= kMaxId);
    return 0;
  }
  check(command.id >= 1 && command.id <= kMaxId);
  switch (command.type) {
    case CommandType::kSubscribe:
    case CommandType::kUnsubscribe:
    case CommandType::kPresence:
      check(is_valid_channel(command.channel));
      break;
    case CommandType::kPublish:
      check(is_valid_channel(command.channel));
      break;
    case CommandType::kRpc:
      check(is_valid_method(command.method));
      break;
    case CommandType::kSend:
      check(is_valid_user(command.user));
      break;
    case CommandType::kRefresh:
      check(command.has_token);
      break;
    case CommandType::kConnect:
    case CommandType::kPing:
      break;
  }
  if (!command.data.empty()) {
    simdjson::dom::element element;
    check(checker.parse(command.data).get(element) == simdjson::SUCCESS);
    // What a subscriber would receive must parse too.
    const std::string message = encode_message("c", 1, command.data);
    check(checker.parse(message).get(element) == simdjson::SUCCESS);
  }
  return 0;
}
