#include "client/server_message.h"

#include <array>

namespace switchboard::client {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

struct TypeName {
  std::string_view name;
  ServerMessageType type;
};

constexpr std::array<TypeName, 9> kTypes = {{
    {"reply", ServerMessageType::kReply},
    {"error", ServerMessageType::kError},
    {"pong", ServerMessageType::kPong},
    {"message", ServerMessageType::kMessage},
    {"join", ServerMessageType::kJoin},
    {"leave", ServerMessageType::kLeave},
    {"direct", ServerMessageType::kDirect},
    {"refresh", ServerMessageType::kRefresh},
    {"disconnect", ServerMessageType::kDisconnect},
}};

// Field readers: false when the field is absent or of another type.
bool read_string(object message, std::string_view name, std::string* out) {
  std::string_view value;
  if (message[name].get_string().get(value) != simdjson::SUCCESS) return false;
  *out = std::string(value);
  return true;
}

bool read_uint(object message, std::string_view name, std::uint64_t* out) {
  return message[name].get_uint64().get(*out) == simdjson::SUCCESS;
}

// Absent and null both come out as "null".
std::string read_json(object message, std::string_view name) {
  element value;
  if (message[name].get(value) != simdjson::SUCCESS) return "null";
  return simdjson::minify(value);
}

// A string, or nullopt for null or absent.
std::optional<std::string> read_optional_string(object message, std::string_view name) {
  std::string value;
  if (!read_string(message, name, &value)) return std::nullopt;
  return value;
}

}  // namespace

base::Result<ServerMessage> MessageDecoder::decode(std::string_view text) {
  ServerMessage out;
  element root;
  if (parser_.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) {
    return base::Error("not JSON");
  }
  object message;
  if (root.get_object().get(message) != simdjson::SUCCESS) {
    return base::Error("not a JSON object");
  }
  std::string_view type;
  if (message["type"].get_string().get(type) != simdjson::SUCCESS) {
    return base::Error("no string \"type\"");
  }
  for (const TypeName& entry : kTypes) {
    if (entry.name == type) out.type = entry.type;
  }
  const auto missing = [](std::string_view field) {
    return base::Error("missing or mistyped \"" + std::string(field) + "\"");
  };
  switch (out.type) {
    case ServerMessageType::kReply:
      if (!read_uint(message, "id", &out.id)) return missing("id");
      out.data = read_json(message, "data");
      return out;
    case ServerMessageType::kPong:
      if (!read_uint(message, "id", &out.id)) return missing("id");
      return out;
    case ServerMessageType::kError: {
      read_uint(message, "id", &out.id);  // null when the command's id could not be read
      std::int64_t code = 0;
      if (message["code"].get_int64().get(code) != simdjson::SUCCESS) return missing("code");
      out.code = static_cast<int>(code);
      read_string(message, "message", &out.text);
      return out;
    }
    case ServerMessageType::kMessage:
      if (!read_string(message, "channel", &out.channel)) return missing("channel");
      read_uint(message, "offset", &out.offset);
      out.data = read_json(message, "data");
      return out;
    case ServerMessageType::kJoin:
    case ServerMessageType::kLeave:
      if (!read_string(message, "channel", &out.channel)) return missing("channel");
      out.user = read_optional_string(message, "user");
      read_string(message, "client", &out.client);
      out.info = read_json(message, "info");
      return out;
    case ServerMessageType::kDirect:
      out.user = read_optional_string(message, "from");
      out.data = read_json(message, "data");
      return out;
    case ServerMessageType::kRefresh:
      read_uint(message, "grace_ms", &out.grace_ms);
      return out;
    case ServerMessageType::kDisconnect: {
      std::int64_t code = 0;
      if (message["code"].get_int64().get(code) == simdjson::SUCCESS) out.code = static_cast<int>(code);
      read_string(message, "reason", &out.text);
      bool reconnect = true;
      if (message["reconnect"].get_bool().get(reconnect) == simdjson::SUCCESS) out.reconnect = reconnect;
      return out;
    }
    case ServerMessageType::kUnknown:
      return out;
  }
  return out;
}

bool MessageDecoder::decode_connect_reply(std::string_view data_json, std::string* client,
                                          std::optional<std::string>* user) {
  element root;
  object data;
  if (parser_.parse(data_json.data(), data_json.size(), true).get(root) != simdjson::SUCCESS ||
      root.get_object().get(data) != simdjson::SUCCESS || !read_string(data, "client", client)) {
    return false;
  }
  *user = read_optional_string(data, "user");
  return true;
}

}  // namespace switchboard::client
