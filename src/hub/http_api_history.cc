// GET /api/history?channel=C[&limit=N][&since_offset=K&since_epoch=E][&reverse=true]:
// a page of a channel's stream, as the `history` command answers it
// (docs/HTTP_API.md), read by the channel's owner.
#include <charconv>
#include <limits>
#include <string>
#include <utility>

#include "http/query.h"
#include "hub/http_api.h"
#include "hub/http_json.h"
#include "hub/node.h"
#include "protocol/names.h"

namespace switchboard::hub {
namespace {

// A query parameter that must be a non-negative integer when present.
std::optional<HttpResponse> unsigned_parameter(const HttpRequest& request, std::string_view name,
                                               std::optional<std::uint64_t>* out) {
  const std::optional<std::string> text = http::query_parameter(request.target, name);
  if (!text) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || text->empty()) {
    return error_response(400, "?" + std::string(name) + "= must be a non-negative integer");
  }
  *out = value;
  return std::nullopt;
}

}  // namespace

void HttpApi::history(const HttpRequest& request, HttpResponder responder) {
  const std::optional<std::string> channel = http::query_parameter(request.target, "channel");
  if (!channel || !protocol::is_valid_channel(*channel)) {
    responder.respond(error_response(400, "give ?channel= with a valid channel name"));
    return;
  }
  if (!node_->policy_now()->options_for(*channel).keeps_history()) {
    responder.respond(error_response(400, "history is not enabled for this channel's namespace"));
    return;
  }
  std::optional<std::uint64_t> limit;
  std::optional<std::uint64_t> since_offset;
  std::optional<HttpResponse> error = unsigned_parameter(request, "limit", &limit);
  if (!error) error = unsigned_parameter(request, "since_offset", &since_offset);
  const std::optional<std::string> since_epoch = http::query_parameter(request.target, "since_epoch");
  if (!error && since_offset.has_value() != since_epoch.has_value()) {
    error = error_response(400, "?since_offset= and ?since_epoch= go together");
  }
  const std::optional<std::string> reverse = http::query_parameter(request.target, "reverse");
  if (!error && reverse && *reverse != "true" && *reverse != "false") {
    error = error_response(400, "?reverse= must be true or false");
  }
  if (error) {
    responder.respond(std::move(*error));
    return;
  }
  broker::StreamQuery query;
  query.limit = limit ? static_cast<std::size_t>(*limit) : std::numeric_limits<std::size_t>::max();
  query.reverse = reverse && *reverse == "true";
  if (since_offset) {
    query.has_since = true;
    query.since = {*since_offset, *since_epoch};
  }
  node_->post<&OwnerRole::history>(node_->owner_of(*channel), *channel, std::move(query),
                                   reply_with(std::move(responder)));
}

}  // namespace switchboard::hub
