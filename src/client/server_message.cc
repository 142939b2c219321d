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

constexpr std::array<TypeName, 10> kTypes = {{
    {"reply", ServerMessageType::kReply},
    {"error", ServerMessageType::kError},
    {"pong", ServerMessageType::kPong},
    {"message", ServerMessageType::kMessage},
    {"join", ServerMessageType::kJoin},
    {"leave", ServerMessageType::kLeave},
    {"direct", ServerMessageType::kDirect},
    {"refresh", ServerMessageType::kRefresh},
    {"disconnect", ServerMessageType::kDisconnect},
    {"reset", ServerMessageType::kReset},
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

// {"offset":K,"data":<json>}; false when it is not that shape.
bool read_publication(element value, Publication* out) {
  object publication;
  if (value.get_object().get(publication) != simdjson::SUCCESS) return false;
  if (!read_uint(publication, "offset", &out->offset)) return false;
  out->data_json = read_json(publication, "data");
  return true;
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
      bool answered = false;
      if (message["answered"].get_bool().get(answered) == simdjson::SUCCESS) out.answered = answered;
      return out;
    }
    case ServerMessageType::kReset:
      // Without its position a reset could not be taken: refused whole.
      if (!read_string(message, "channel", &out.channel)) return missing("channel");
      if (!read_string(message, "epoch", &out.epoch)) return missing("epoch");
      if (!read_uint(message, "offset", &out.offset)) return missing("offset");
      return out;
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

base::Result<SubscribeReply> MessageDecoder::decode_subscribe_reply(std::string_view data_json) {
  SubscribeReply reply;
  element root;
  object data;
  if (parser_.parse(data_json.data(), data_json.size(), true).get(root) != simdjson::SUCCESS ||
      root.get_object().get(data) != simdjson::SUCCESS) {
    return base::Error("subscribe reply: data is not an object");
  }
  const auto mistyped = [](std::string_view field) {
    return base::Error("subscribe reply: mistyped \"" + std::string(field) + "\"");
  };
  element value;
  if (data["recoverable"].get(value) == simdjson::SUCCESS &&
      value.get_bool().get(reply.recoverable) != simdjson::SUCCESS) {
    return mistyped("recoverable");
  }
  if (data["recovered"].get(value) == simdjson::SUCCESS) {
    bool recovered = false;
    if (value.get_bool().get(recovered) != simdjson::SUCCESS) return mistyped("recovered");
    reply.recovered = recovered;
  }
  if (reply.recoverable) {
    if (!read_string(data, "epoch", &reply.epoch)) return mistyped("epoch");
    if (!read_uint(data, "offset", &reply.offset)) return mistyped("offset");
  }
  if (data["publications"].get(value) == simdjson::SUCCESS) {
    simdjson::dom::array publications;
    if (value.get_array().get(publications) != simdjson::SUCCESS) return mistyped("publications");
    for (element item : publications) {
      Publication publication;
      if (!read_publication(item, &publication)) return mistyped("publications");
      reply.publications.push_back(std::move(publication));
    }
  }
  if (data["latest"].get(value) == simdjson::SUCCESS && !value.is_null()) {
    Publication latest;
    if (!read_publication(value, &latest)) return mistyped("latest");
    reply.latest = std::move(latest);
  }
  return reply;
}

bool MessageDecoder::is_local_only(std::string_view data_json) {
  element root;
  object data;
  bool local_only = false;
  return parser_.parse(data_json.data(), data_json.size(), true).get(root) == simdjson::SUCCESS &&
         root.get_object().get(data) == simdjson::SUCCESS &&
         data["local_only"].get_bool().get(local_only) == simdjson::SUCCESS && local_only;
}

}  // namespace switchboard::client
