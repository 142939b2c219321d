// The HTTP API's JSON plumbing (docs/HTTP_API.md): responses, the request
// body as one JSON object and its fields, the ReplyTo that answers a
// request from an owner, and the gathering of answers from several workers
// or owners into one response. No route lives here (http_api.cc).
#pragma once

#include <simdjson.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/reply_to.h"
#include "switchboard/server.h"

namespace switchboard::hub {

HttpResponse json_response(int status, std::string body);
// {"error": message}
HttpResponse error_response(int status, std::string_view message);

// A ReplyTo whose answer becomes the HTTP response.
ReplyTo reply_with(HttpResponder responder);

// Each returns nullopt when it went well, else the 400 to send.
//
// The request body as one JSON object. The parser is per thread, and the
// object is valid until the next parse on this thread.
std::optional<HttpResponse> parse_object(const HttpRequest& request, simdjson::dom::object* out);
std::optional<HttpResponse> string_field(const simdjson::dom::object& body, std::string_view name,
                                         std::string_view* out);
// "data": any JSON value, minified.
std::optional<HttpResponse> data_field(const simdjson::dom::object& body, std::string* out);
std::optional<HttpResponse> channel_field(const simdjson::dom::object& body, std::string_view* out);
std::optional<HttpResponse> user_field(const simdjson::dom::object& body, std::string_view* out);

// Answers once every part has arrived: `parts` from several owners or
// workers, joined by `finish` into the body. Any thread.
class Gather {
 public:
  Gather(std::size_t expected, HttpResponder responder,
         std::function<HttpResponse(std::vector<std::string>& parts)> finish)
      : left_(expected), parts_(expected), responder_(std::move(responder)), finish_(std::move(finish)) {}

  void add(std::size_t index, std::string part);

 private:
  std::mutex mutex_;
  std::size_t left_;
  std::vector<std::string> parts_;
  HttpResponder responder_;
  std::function<HttpResponse(std::vector<std::string>& parts)> finish_;
};

}  // namespace switchboard::hub
