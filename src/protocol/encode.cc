#include "protocol/encode.h"

#include <charconv>

#include "base/json_string.h"

namespace switchboard::protocol {
namespace {

// `"user":…,"client":…,"info":…` of a presence member and a join event.
void append_member_fields(std::string& out, std::string_view user, std::string_view client, std::string_view info_json);

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, static_cast<std::size_t>(result.ptr - digits));
}

}  // namespace

void append_json_user(std::string& out, std::string_view user) {
  if (user.empty()) {
    out += "null";
  } else {
    base::append_json_string(out, user);
  }
}

std::string encode_reply(std::uint64_t id, std::string_view data_json) {
  std::string out;
  out.reserve(32 + data_json.size());
  out += R"({"type":"reply","id":)";
  append_number(out, id);
  out += R"(,"data":)";
  out += data_json;
  out += '}';
  return out;
}

std::string encode_error(std::uint64_t id, ErrorCode code, std::string_view message) {
  std::string out;
  out.reserve(48 + message.size());
  out += R"({"type":"error","id":)";
  if (id == 0) {
    out += "null";
  } else {
    append_number(out, id);
  }
  out += R"(,"code":)";
  append_number(out, static_cast<std::uint64_t>(code));
  out += R"(,"message":)";
  base::append_json_string(out, message);
  out += '}';
  return out;
}

namespace {

void append_member_fields(std::string& out, std::string_view user, std::string_view client,
                          std::string_view info_json) {
  out += R"("user":)";
  append_json_user(out, user);
  out += R"(,"client":)";
  base::append_json_string(out, client);
  out += R"(,"info":)";
  out += info_json.empty() ? std::string_view("null") : info_json;
}

}  // namespace

std::string encode_member(std::string_view user, std::string_view client, std::string_view info_json) {
  std::string out = "{";
  append_member_fields(out, user, client, info_json);
  out += '}';
  return out;
}

std::string encode_pong(std::uint64_t id) {
  std::string out = R"({"type":"pong","id":)";
  append_number(out, id);
  out += '}';
  return out;
}

std::string encode_refresh(std::uint64_t grace_ms) {
  std::string out = R"({"type":"refresh","grace_ms":)";
  append_number(out, grace_ms);
  out += '}';
  return out;
}

std::string encode_disconnect(std::uint16_t code, std::string_view reason, Reconnect reconnect,
                              Answered answered) {
  std::string out = R"({"type":"disconnect","code":)";
  append_number(out, code);
  out += R"(,"reason":)";
  base::append_json_string(out, reason);
  out += reconnect == Reconnect::kYes ? R"(,"reconnect":true)" : R"(,"reconnect":false)";
  if (answered != Answered::kUnsaid) out += answered == Answered::kYes ? R"(,"answered":true)" : R"(,"answered":false)";
  out += '}';
  return out;
}

std::string encode_reset(std::string_view channel, std::string_view epoch, std::uint64_t offset) {
  std::string out = R"({"type":"reset","channel":)";
  base::append_json_string(out, channel);
  out += R"(,"epoch":)";
  base::append_json_string(out, epoch);
  out += R"(,"offset":)";
  append_number(out, offset);
  out += '}';
  return out;
}

std::string encode_message(std::string_view channel, std::uint64_t offset, std::string_view data_json) {
  std::string out;
  out.reserve(48 + channel.size() + data_json.size());
  out += R"({"type":"message","channel":)";
  base::append_json_string(out, channel);
  out += R"(,"offset":)";
  append_number(out, offset);
  out += R"(,"data":)";
  out += data_json;
  out += '}';
  return out;
}

std::string encode_join(std::string_view channel, std::string_view user, std::string_view client,
                        std::string_view info_json) {
  std::string out = R"({"type":"join","channel":)";
  base::append_json_string(out, channel);
  out += ',';
  append_member_fields(out, user, client, info_json);
  out += '}';
  return out;
}

std::string encode_leave(std::string_view channel, std::string_view user, std::string_view client) {
  std::string out = R"({"type":"leave","channel":)";
  base::append_json_string(out, channel);
  out += R"(,"user":)";
  append_json_user(out, user);
  out += R"(,"client":)";
  base::append_json_string(out, client);
  out += '}';
  return out;
}

std::string encode_direct(std::string_view from_user, std::string_view data_json) {
  std::string out;
  out.reserve(40 + from_user.size() + data_json.size());
  out += R"({"type":"direct","from":)";
  append_json_user(out, from_user);
  out += R"(,"data":)";
  out += data_json;
  out += '}';
  return out;
}

}  // namespace switchboard::protocol
