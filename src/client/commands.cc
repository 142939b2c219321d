#include "client/commands.h"

#include <simdjson.h>

#include "base/json_string.h"
#include "codec/utf8.h"
#include "protocol/encode.h"

namespace switchboard::client {
namespace {

std::string with_type(std::string_view type) {
  std::string body = "\"type\":\"";
  body += type;
  body += '"';
  return body;
}

void add_string(std::string& body, std::string_view name, std::string_view value) {
  body += ",\"";
  body += name;
  body += "\":";
  base::append_json_string(body, value);
}

void add_json(std::string& body, std::string_view name, std::string_view value_json) {
  body += ",\"";
  body += name;
  body += "\":";
  body += value_json;
}

// ,"since":{"offset":K,"epoch":"E"}
void add_since(std::string& body, const StreamPosition& since) {
  body += ",\"since\":{\"offset\":";
  body += std::to_string(since.offset);
  add_string(body, "epoch", since.epoch);
  body += '}';
}

std::string with_token(std::string_view type, std::string_view token) {
  std::string body = with_type(type);
  if (!token.empty()) add_string(body, "token", token);
  return body;
}

}  // namespace

std::string encode_command(std::uint64_t id, std::string_view body) {
  std::string text = "{\"id\":";
  text += std::to_string(id);
  text += ',';
  text += body;
  text += '}';
  return text;
}

std::string connect_body(std::string_view token) { return with_token("connect", token); }

std::string refresh_body(std::string_view token) { return with_token("refresh", token); }

std::string subscribe_body(std::string_view channel, std::string_view token, const std::optional<StreamPosition>& since,
                           Latest latest) {
  std::string body = with_type("subscribe");
  add_string(body, "channel", channel);
  if (!token.empty()) add_string(body, "token", token);
  if (since) {
    add_json(body, "recover", "true");
    add_since(body, *since);
  }
  if (latest == Latest::kYes) add_json(body, "latest", "true");
  return body;
}

std::string unsubscribe_body(std::string_view channel) {
  std::string body = with_type("unsubscribe");
  add_string(body, "channel", channel);
  return body;
}

std::string publish_body(std::string_view channel, std::string_view data_json, ExcludeSelf exclude_self) {
  std::string body = with_type("publish");
  add_string(body, "channel", channel);
  add_json(body, "data", data_json);
  if (exclude_self == ExcludeSelf::kYes) add_json(body, "exclude_self", "true");
  return body;
}

std::string rpc_body(std::string_view method, std::string_view data_json) {
  std::string body = with_type("rpc");
  add_string(body, "method", method);
  if (!data_json.empty()) add_json(body, "data", data_json);
  return body;
}

std::string send_body(std::string_view user, std::string_view data_json) {
  std::string body = with_type("send");
  add_string(body, "user", user);
  add_json(body, "data", data_json);
  return body;
}

std::string presence_body(std::string_view channel) {
  std::string body = with_type("presence");
  add_string(body, "channel", channel);
  return body;
}

std::string history_body(std::string_view channel, const HistoryOptions& options) {
  std::string body = with_type("history");
  add_string(body, "channel", channel);
  if (options.limit) add_json(body, "limit", std::to_string(*options.limit));
  if (options.since) add_since(body, *options.since);
  if (options.order == HistoryOrder::kNewestFirst) add_json(body, "reverse", "true");
  return body;
}

std::string ping_body() { return with_type("ping"); }

base::Result<void> check_json(std::string_view text) {
  // The DOM parser validates the whole document (and its UTF-8); it needs
  // padding, so it copies text into its own buffer.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element ignored;
  const simdjson::error_code error = parser.parse(text.data(), text.size(), true).get(ignored);
  if (error == simdjson::SUCCESS) return {};
  if (error == simdjson::EMPTY) return base::Error("data must be a JSON value, not empty");
  return base::Error(std::string("data is not valid JSON: ") + simdjson::error_message(error));
}

base::Result<void> check_name(std::string_view what, std::string_view text) {
  if (text.empty()) return base::Error(std::string(what) + " must not be empty");
  if (!codec::is_valid_utf8(text)) return base::Error(std::string(what) + " must be UTF-8");
  return {};
}

}  // namespace switchboard::client
