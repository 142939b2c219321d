#include "hub/http_json.h"

#include <utility>

#include "base/json_string.h"
#include "protocol/names.h"

namespace switchboard::hub {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::string_view kJson = "application/json";

// The status an owner's protocol error becomes.
int status_for(protocol::ErrorCode code) {
  switch (code) {
    case protocol::ErrorCode::kUnavailable:
      return 503;
    case protocol::ErrorCode::kPermissionDenied:
      return 403;
    case protocol::ErrorCode::kInternal:
      return 500;
    case protocol::ErrorCode::kUnrecoverablePosition:
      return 410;  // that place in the stream is gone
    default:
      return 400;
  }
}

}  // namespace

HttpResponse json_response(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = std::string(kJson);
  response.body = std::move(body);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse error_response(int status, std::string_view message) {
  std::string body = "{\"error\":";
  base::append_json_string(body, message);
  body += '}';
  return json_response(status, std::move(body));
}

ReplyTo reply_with(HttpResponder responder) {
  ReplyTo to;
  to.callback = [responder = std::move(responder)](AnswerKind kind, protocol::ErrorCode code, std::string data) {
    responder.respond(kind == AnswerKind::kReply ? json_response(200, std::move(data))
                                                 : error_response(status_for(code), data));
  };
  return to;
}

std::optional<HttpResponse> parse_object(const HttpRequest& request, object* out) {
  thread_local simdjson::dom::parser parser;
  element root;
  if (parser.parse(request.body.data(), request.body.size(), true).get(root) != simdjson::SUCCESS) {
    return error_response(400, "the body is not valid JSON");
  }
  if (root.get_object().get(*out) != simdjson::SUCCESS) return error_response(400, "the body must be a JSON object");
  return std::nullopt;
}

std::optional<HttpResponse> string_field(const object& body, std::string_view name, std::string_view* out) {
  element value;
  if (body[name].get(value) != simdjson::SUCCESS) {
    return error_response(400, "missing field \"" + std::string(name) + "\"");
  }
  if (value.get_string().get(*out) != simdjson::SUCCESS) {
    return error_response(400, "\"" + std::string(name) + "\" must be a string");
  }
  return std::nullopt;
}

std::optional<HttpResponse> data_field(const object& body, std::string* out) {
  element value;
  if (body["data"].get(value) != simdjson::SUCCESS) return error_response(400, "missing field \"data\"");
  *out = simdjson::minify(value);
  return std::nullopt;
}

std::optional<HttpResponse> channel_field(const object& body, std::string_view* out) {
  if (auto error = string_field(body, "channel", out)) return error;
  if (!protocol::is_valid_channel(*out)) {
    return error_response(400, "invalid channel name (docs/PROTOCOL.md \"Names\")");
  }
  return std::nullopt;
}

std::optional<HttpResponse> user_field(const object& body, std::string_view* out) {
  if (auto error = string_field(body, "user", out)) return error;
  if (!protocol::is_valid_user(*out)) return error_response(400, "invalid user id (docs/PROTOCOL.md \"Names\")");
  return std::nullopt;
}

void Gather::add(std::size_t index, std::string part) {
  std::unique_lock lock(mutex_);
  parts_[index] = std::move(part);
  if (--left_ != 0) return;
  HttpResponse response = finish_(parts_);
  lock.unlock();
  responder_.respond(std::move(response));
}

}  // namespace switchboard::hub
