#include "protocol/command.h"

#include <simdjson.h>

#include <array>
#include <utility>

#include "protocol/names.h"

namespace switchboard::protocol {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

struct TypeName {
  std::string_view name;
  CommandType type;
};
constexpr std::array<TypeName, 10> kTypes{{
    {"connect", CommandType::kConnect},
    {"refresh", CommandType::kRefresh},
    {"subscribe", CommandType::kSubscribe},
    {"unsubscribe", CommandType::kUnsubscribe},
    {"publish", CommandType::kPublish},
    {"rpc", CommandType::kRpc},
    {"send", CommandType::kSend},
    {"presence", CommandType::kPresence},
    {"history", CommandType::kHistory},
    {"ping", CommandType::kPing},
}};

class Failure {
 public:
  Failure(CommandError* error, std::uint64_t id) : error_(error), id_(id) {}
  bool operator()(ErrorCode code, std::string message) const {
    error_->code = code;
    error_->id = id_;
    error_->message = std::move(message);
    return false;
  }

 private:
  CommandError* error_;
  std::uint64_t id_;
};

// Reads the string field `name`: absent (kMissingField) or not a string
// (kWrongFieldType) fail.
bool string_field(const object& command, std::string_view name, std::string_view* out, const Failure& fail) {
  element value;
  if (command[name].get(value) != simdjson::SUCCESS) {
    return fail(ErrorCode::kMissingField, "missing field \"" + std::string(name) + "\"");
  }
  if (value.get_string().get(*out) != simdjson::SUCCESS) {
    return fail(ErrorCode::kWrongFieldType, "\"" + std::string(name) + "\" must be a string");
  }
  return true;
}

bool channel_field(const object& command, Command* out, const Failure& fail) {
  if (!string_field(command, "channel", &out->channel, fail)) return false;
  if (!is_valid_channel(out->channel)) {
    return fail(ErrorCode::kBadChannel,
                "channel must be 1 to 255 characters from A-Z a-z 0-9 and _ - : . @ / = + # (and $ first)");
  }
  return true;
}

// Whether a command must carry `data` (rpc's may be left out: null).
enum class Data : std::uint8_t { kRequired, kOptional };

// The `data` value as minified JSON; an absent optional one is null.
bool data_field(const object& command, Data data, Command* out, const Failure& fail) {
  element value;
  if (command["data"].get(value) != simdjson::SUCCESS) {
    if (data == Data::kRequired) return fail(ErrorCode::kMissingField, "missing field \"data\"");
    out->data = "null";
    return true;
  }
  out->data = simdjson::minify(value);
  return true;
}

// The optional string field `token`.
bool token_field(const object& command, Command* out, const Failure& fail) {
  element value;
  if (command["token"].get(value) != simdjson::SUCCESS) return true;
  if (value.get_string().get(out->token) != simdjson::SUCCESS) {
    return fail(ErrorCode::kWrongFieldType, "\"token\" must be a string");
  }
  out->has_token = true;
  return true;
}

// The optional boolean field `name`; present sets *given.
bool bool_field(const object& command, std::string_view name, bool* out, bool* given, const Failure& fail) {
  element value;
  if (command[name].get(value) != simdjson::SUCCESS) return true;
  if (value.get_bool().get(*out) != simdjson::SUCCESS) {
    return fail(ErrorCode::kWrongFieldType, "\"" + std::string(name) + "\" must be true or false");
  }
  *given = true;
  return true;
}

// The optional non-negative integer field `name` of object.
bool unsigned_field(const object& object_value, std::string_view name, std::string_view shown, std::uint64_t* out,
                    bool* given, const Failure& fail) {
  element value;
  if (object_value[name].get(value) != simdjson::SUCCESS) return true;
  if (value.type() == element_type::UINT64) {
    *out = value.get_uint64().value_unsafe();
  } else if (value.type() == element_type::INT64 && value.get_int64().value_unsafe() >= 0) {
    *out = static_cast<std::uint64_t>(value.get_int64().value_unsafe());
  } else {
    return fail(ErrorCode::kWrongFieldType, "\"" + std::string(shown) + "\" must be a non-negative integer");
  }
  *given = true;
  return true;
}

// The optional `since`: {"offset": <integer >= 0>, "epoch": <string>}.
bool since_field(const object& command, Command* out, const Failure& fail) {
  element value;
  if (command["since"].get(value) != simdjson::SUCCESS) return true;
  object since;
  if (value.get_object().get(since) != simdjson::SUCCESS) {
    return fail(ErrorCode::kWrongFieldType, "\"since\" must be an object with \"offset\" and \"epoch\"");
  }
  bool has_offset = false;
  if (!unsigned_field(since, "offset", "since.offset", &out->since_offset, &has_offset, fail)) return false;
  if (!has_offset) return fail(ErrorCode::kMissingField, "missing field \"since.offset\"");
  element epoch;
  if (since["epoch"].get(epoch) != simdjson::SUCCESS)
    return fail(ErrorCode::kMissingField, "missing field \"since.epoch\"");
  if (epoch.get_string().get(out->since_epoch) != simdjson::SUCCESS) {
    return fail(ErrorCode::kWrongFieldType, "\"since.epoch\" must be a string");
  }
  out->has_since = true;
  return true;
}

// subscribe's optional recover, since and latest.
bool stream_fields(const object& command, Command* out, const Failure& fail) {
  bool given = false;
  if (!bool_field(command, "recover", &out->recover, &given, fail)) return false;
  if (!bool_field(command, "latest", &out->latest, &given, fail)) return false;
  if (!since_field(command, out, fail)) return false;
  out->stream_fields = given || out->has_since;
  if (out->recover && !out->has_since)
    return fail(ErrorCode::kMissingField, "missing field \"since\" (recover needs it)");
  return true;
}

// history's optional limit, since and reverse.
bool history_fields(const object& command, Command* out, const Failure& fail) {
  if (!unsigned_field(command, "limit", "limit", &out->limit, &out->has_limit, fail)) return false;
  bool given = false;
  if (!bool_field(command, "reverse", &out->reverse, &given, fail)) return false;
  return since_field(command, out, fail);
}

}  // namespace

const char* command_name(CommandType type) {
  for (const TypeName& entry : kTypes) {
    if (entry.type == type) return entry.name.data();
  }
  return "?";
}

bool is_json(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  element ignored;
  return parser.parse(text.data(), text.size(), true).get(ignored) == simdjson::SUCCESS;
}

CommandParser::CommandParser() : parser_(std::make_unique<simdjson::dom::parser>()) {}

CommandParser::~CommandParser() = default;

bool CommandParser::parse(std::string_view text, Command* out, CommandError* error) {
  *out = Command{};
  Failure fail(error, 0);
  element root;
  // realloc_if_needed: the text is a view into a receive buffer without
  // simdjson's padding, so the parser copies it into its own.
  if (parser_->parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) {
    return fail(ErrorCode::kMalformed, "not valid JSON");
  }
  object command;
  if (root.get_object().get(command) != simdjson::SUCCESS) {
    return fail(ErrorCode::kMalformed, "a command must be a JSON object");
  }

  element id;
  if (command["id"].get(id) != simdjson::SUCCESS) return fail(ErrorCode::kBadId, "missing field \"id\"");
  std::uint64_t id_value = 0;
  if (id.type() == element_type::INT64) {
    const std::int64_t signed_id = id.get_int64().value_unsafe();
    id_value = signed_id > 0 ? static_cast<std::uint64_t>(signed_id) : 0;
  } else if (id.type() == element_type::UINT64) {
    id_value = id.get_uint64().value_unsafe();
  }
  if (id_value == 0 || id_value > kMaxId) return fail(ErrorCode::kBadId, default_message(ErrorCode::kBadId));
  out->id = id_value;
  const Failure fail_with_id(error, id_value);

  std::string_view type;
  if (!string_field(command, "type", &type, fail_with_id)) return false;
  bool known = false;
  for (const TypeName& entry : kTypes) {
    if (entry.name == type) {
      out->type = entry.type;
      known = true;
      break;
    }
  }
  if (!known) return fail_with_id(ErrorCode::kUnknownType, "unknown command type");

  switch (out->type) {
    case CommandType::kConnect:
      return token_field(command, out, fail_with_id);
    case CommandType::kRefresh:
      if (!token_field(command, out, fail_with_id)) return false;
      if (!out->has_token) return fail_with_id(ErrorCode::kMissingField, "missing field \"token\"");
      return true;
    case CommandType::kSubscribe:
      if (!channel_field(command, out, fail_with_id)) return false;
      if (!token_field(command, out, fail_with_id)) return false;
      return stream_fields(command, out, fail_with_id);
    case CommandType::kHistory:
      if (!channel_field(command, out, fail_with_id)) return false;
      return history_fields(command, out, fail_with_id);
    case CommandType::kUnsubscribe:
    case CommandType::kPresence:
      return channel_field(command, out, fail_with_id);
    case CommandType::kPublish: {
      if (!channel_field(command, out, fail_with_id)) return false;
      if (!data_field(command, Data::kRequired, out, fail_with_id)) return false;
      element exclude;
      if (command["exclude_self"].get(exclude) == simdjson::SUCCESS &&
          exclude.get_bool().get(out->exclude_self) != simdjson::SUCCESS) {
        return fail_with_id(ErrorCode::kWrongFieldType, "\"exclude_self\" must be true or false");
      }
      return true;
    }
    case CommandType::kRpc:
      if (!string_field(command, "method", &out->method, fail_with_id)) return false;
      if (!is_valid_method(out->method)) {
        return fail_with_id(ErrorCode::kBadMethod, "method must be 1 to 128 characters from A-Z a-z 0-9 and _ - . /");
      }
      return data_field(command, Data::kOptional, out, fail_with_id);
    case CommandType::kSend:
      if (!string_field(command, "user", &out->user, fail_with_id)) return false;
      if (!is_valid_user(out->user)) {
        return fail_with_id(ErrorCode::kBadUser,
                            "user must be 1 to 255 printable ASCII characters without space, quote or backslash");
      }
      return data_field(command, Data::kRequired, out, fail_with_id);
    case CommandType::kPing:
      return true;
  }
  return fail_with_id(ErrorCode::kInternal, "unhandled command type");
}

}  // namespace switchboard::protocol
