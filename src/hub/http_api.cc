// The server HTTP API's routes (docs/HTTP_API.md): JSON in and out, under
// /api/, for an application's backend. Every route checks `Authorization:
// apikey KEY`, runs on the worker that accepted the request, and reaches
// channels and users through their owners exactly like a client's command
// does; the answer comes back through the HttpResponder from whichever
// thread has it. The JSON plumbing is in http_json.h.
#include "hub/http_api.h"

#include <simdjson.h>

#include <map>
#include <memory>
#include <utility>

#include <openssl/crypto.h>

#include "base/json_string.h"
#include "http/query.h"
#include "hub/disconnect_order.h"
#include "hub/http_json.h"
#include "hub/node.h"
#include "protocol/encode.h"
#include "protocol/names.h"

namespace switchboard::hub {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

}  // namespace

HttpApi::HttpApi(std::shared_ptr<Node> node, std::string api_key)
    : node_(std::move(node)), api_key_(std::move(api_key)) {}

std::optional<std::string_view> HttpApi::refusal(const HttpRequest& request) const {
  std::string_view given = request.header("Authorization");
  if (given.empty()) return "no API key";
  constexpr std::string_view kScheme = "apikey ";
  if (given.size() <= kScheme.size()) return "not an API key (Authorization: apikey KEY)";
  std::string scheme(given.substr(0, kScheme.size()));
  for (char& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (scheme != kScheme) return "not an API key (Authorization: apikey KEY)";
  given.remove_prefix(kScheme.size());
  // Constant time in the key's content: the length is not a secret worth
  // hiding, the bytes are.
  if (given.size() == api_key_.size() && CRYPTO_memcmp(given.data(), api_key_.data(), given.size()) == 0) {
    return std::nullopt;
  }
  return "wrong API key";
}

void HttpApi::add_routes(Server& server) {
  const auto guarded = [this](void (HttpApi::*route)(const HttpRequest&, HttpResponder)) {
    return [this, route](const HttpRequest& request, HttpResponder responder) {
      if (const std::optional<std::string_view> why = refusal(request)) {
        node_->auth_failures.record(request.peer_address, "api", *why);
        HttpResponse refused = error_response(401, "missing or wrong API key (Authorization: apikey KEY)");
        refused.headers.emplace_back("WWW-Authenticate", "apikey");
        responder.respond(std::move(refused));
        return;
      }
      (this->*route)(request, std::move(responder));
    };
  };
  server.route_async("POST", "/api/publish", guarded(&HttpApi::publish));
  server.route_async("POST", "/api/broadcast", guarded(&HttpApi::broadcast));
  server.route_async("POST", "/api/send", guarded(&HttpApi::send));
  server.route_async("POST", "/api/disconnect", guarded(&HttpApi::disconnect));
  server.route_async("GET", "/api/presence", guarded(&HttpApi::presence));
  server.route_async("GET", "/api/history", guarded(&HttpApi::history));
  server.route_async("GET", "/api/channels", guarded(&HttpApi::channels));
  server.route_async("GET", "/api/stats", guarded(&HttpApi::stats));
  server.route_async("GET", "/api/user", guarded(&HttpApi::user));
}

void HttpApi::publish(const HttpRequest& request, HttpResponder responder) {
  object body;
  std::string_view channel;
  std::string data;
  std::optional<HttpResponse> error = parse_object(request, &body);
  if (!error) error = channel_field(body, &channel);
  if (!error) error = data_field(body, &data);
  if (error) {
    responder.respond(std::move(*error));
    return;
  }
  node_->post<&OwnerRole::publish>(node_->owner_of(channel), std::string(channel), std::move(data), std::uint64_t{0},
                                   reply_with(std::move(responder)));
}

void HttpApi::broadcast(const HttpRequest& request, HttpResponder responder) {
  object body;
  std::string data;
  std::optional<HttpResponse> error = parse_object(request, &body);
  if (!error) error = data_field(body, &data);
  if (error) {
    responder.respond(std::move(*error));
    return;
  }
  simdjson::dom::array list;
  if (body["channels"].get_array().get(list) != simdjson::SUCCESS || list.size() == 0) {
    responder.respond(error_response(400, "\"channels\" must be a non-empty array of channel names"));
    return;
  }
  std::vector<std::string> channels;
  for (element item : list) {
    std::string_view channel;
    if (item.get_string().get(channel) != simdjson::SUCCESS || !protocol::is_valid_channel(channel)) {
      responder.respond(error_response(400, "\"channels\" must be a non-empty array of channel names"));
      return;
    }
    channels.emplace_back(channel);
  }
  // {"results":[{"channel":..., "offset":N} or {"channel":..., "error":...}]}
  auto gather = std::make_shared<Gather>(channels.size(), std::move(responder), [](std::vector<std::string>& parts) {
    std::string out = "{\"results\":[";
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : ",") + parts[i];
    return json_response(200, out + "]}");
  });
  for (std::size_t i = 0; i < channels.size(); ++i) {
    ReplyTo to;
    to.callback = [gather, i, channel = channels[i]](AnswerKind kind, protocol::ErrorCode, std::string answer) {
      std::string part = "{\"channel\":";
      base::append_json_string(part, channel);
      if (kind == AnswerKind::kReply) {
        // answer is {"offset":N}: splice its members in.
        part += "," + answer.substr(1);
      } else {
        part += ",\"error\":";
        base::append_json_string(part, answer);
        part += '}';
      }
      gather->add(i, std::move(part));
    };
    node_->post<&OwnerRole::publish>(node_->owner_of(channels[i]), channels[i], data, std::uint64_t{0}, std::move(to));
  }
}

void HttpApi::send(const HttpRequest& request, HttpResponder responder) {
  object body;
  std::string_view user;
  std::string data;
  std::optional<HttpResponse> error = parse_object(request, &body);
  if (!error) error = user_field(body, &user);
  if (!error) error = data_field(body, &data);
  if (error) {
    responder.respond(std::move(*error));
    return;
  }
  node_->post<&OwnerRole::send>(node_->owner_of(user), std::string(user), std::string(), std::move(data),
                                reply_with(std::move(responder)), OnlineInReply::kShown);
}

void HttpApi::disconnect(const HttpRequest& request, HttpResponder responder) {
  object body;
  std::string_view user;
  std::optional<HttpResponse> error = parse_object(request, &body);
  if (!error) error = user_field(body, &user);
  if (error) {
    responder.respond(std::move(*error));
    return;
  }
  std::uint64_t code = static_cast<std::uint64_t>(protocol::ServerCloseCode::kDisconnected);
  element value;
  if (body["code"].get(value) == simdjson::SUCCESS &&
      (value.get_uint64().get(code) != simdjson::SUCCESS || code < 4000 || code > 4999)) {
    responder.respond(error_response(400, "\"code\" must be a close code from 4000 to 4999"));
    return;
  }
  std::string_view reason = "disconnected by the server";
  if (body["reason"].get(value) == simdjson::SUCCESS &&
      (value.get_string().get(reason) != simdjson::SUCCESS || reason.size() > 100)) {
    responder.respond(error_response(400, "\"reason\" must be a string of at most 100 bytes"));
    return;
  }
  bool reconnect = false;
  if (body["reconnect"].get(value) == simdjson::SUCCESS && value.get_bool().get(reconnect) != simdjson::SUCCESS) {
    responder.respond(error_response(400, "\"reconnect\" must be true or false"));
    return;
  }
  // Every worker of this node closes its own connections of the user, and
  // the broker tells the other nodes to close theirs. The answer counts
  // the connections closed here and the other nodes that had the user.
  const std::size_t workers = node_->worker_count();
  auto gather = std::make_shared<Gather>(workers + 1, std::move(responder), [workers](std::vector<std::string>& parts) {
    std::uint64_t here = 0;
    for (std::size_t worker = 0; worker < workers; ++worker) here += std::stoull(parts[worker]);
    if (parts[workers].empty()) {
      return error_response(503, "closed " + std::to_string(here) +
                                     " connection(s) on this node; the broker cannot reach the other nodes now");
    }
    return json_response(200, "{\"disconnected\":" + std::to_string(here) + ",\"other_nodes\":" + parts[workers] + "}");
  });
  const protocol::Reconnect again = reconnect ? protocol::Reconnect::kYes : protocol::Reconnect::kNo;
  for (unsigned worker = 0; worker < workers; ++worker) {
    node_->post_task(
        worker, [node = node_, worker, gather, user = std::string(user), code, reason = std::string(reason), again] {
          const std::size_t closed =
              node->local(worker).disconnect_user(user, static_cast<std::uint16_t>(code), reason, again);
          gather->add(worker, std::to_string(closed));
        });
  }
  const unsigned owner = node_->owner_of(user);
  const DisconnectOrder order{static_cast<std::uint16_t>(code), reconnect, std::string(reason)};
  node_->post_task(
      owner, [node = node_, owner, gather, workers, user = std::string(user), text = format_disconnect_order(order)] {
        const broker::UserMessage message{user, broker::UserMessageKind::kDisconnect, text, true};
        node->broker()->send_to_user(owner, message, [gather, workers](broker::UserSendResult result) {
          gather->add(workers, result.status == broker::PublishStatus::kAccepted ? std::to_string(result.nodes) : "");
        });
      });
}

void HttpApi::presence(const HttpRequest& request, HttpResponder responder) {
  const std::optional<std::string> channel = http::query_parameter(request.target, "channel");
  if (!channel || !protocol::is_valid_channel(*channel)) {
    responder.respond(error_response(400, "give ?channel= with a valid channel name"));
    return;
  }
  if (!node_->policy_now()->options_for(*channel).presence) {
    responder.respond(error_response(400, "presence is not enabled for this channel's namespace"));
    return;
  }
  node_->post<&OwnerRole::presence>(node_->owner_of(*channel), *channel, reply_with(std::move(responder)));
}

void HttpApi::channels(const HttpRequest&, HttpResponder responder) {
  // Every node lists its channels; the answer sums their subscribers.
  auto respond = std::make_shared<HttpResponder>(std::move(responder));
  node_->post_task(0, [node = node_, respond] {
    node->broker()->ask_nodes("channels", [respond](std::vector<std::string> answers, bool complete) {
      if (answers.empty()) {
        respond->respond(error_response(503, "the broker cannot reach the nodes now"));
        return;
      }
      std::map<std::string, std::uint64_t, std::less<>> subscribers;  // by name: a stable order
      simdjson::dom::parser parser;
      for (const std::string& answer : answers) {
        simdjson::dom::array list;
        if (parser.parse(answer).get_array().get(list) != simdjson::SUCCESS) continue;
        for (element item : list) {
          std::string_view channel;
          std::uint64_t count = 0;
          if (item["channel"].get_string().get(channel) != simdjson::SUCCESS ||
              item["subscribers"].get_uint64().get(count) != simdjson::SUCCESS) {
            continue;
          }
          auto [it, created] = subscribers.try_emplace(std::string(channel), 0);
          it->second += count;
        }
      }
      std::string out = "{\"channels\":[";
      bool first = true;
      for (const auto& [channel, count] : subscribers) {
        out += first ? "{\"channel\":" : ",{\"channel\":";
        first = false;
        base::append_json_string(out, channel);
        out += ",\"subscribers\":" + std::to_string(count) + "}";
      }
      out += "],\"nodes\":" + std::to_string(answers.size()) + ",\"complete\":" + (complete ? "true" : "false") + "}";
      respond->respond(json_response(200, std::move(out)));
    });
  });
}

void HttpApi::user(const HttpRequest& request, HttpResponder responder) {
  // Every node says how many connections the user has there: exact, and
  // nothing to go stale when a node dies (it just does not answer).
  const std::optional<std::string> user = http::query_parameter(request.target, "user");
  if (!user || !protocol::is_valid_user(*user)) {
    responder.respond(error_response(400, "give ?user= with a valid user id"));
    return;
  }
  auto respond = std::make_shared<HttpResponder>(std::move(responder));
  node_->post_task(0, [node = node_, respond, question = "user " + *user] {
    node->broker()->ask_nodes(question, [respond](std::vector<std::string> answers, bool complete) {
      if (answers.empty()) {
        respond->respond(error_response(503, "the broker cannot reach the nodes now"));
        return;
      }
      std::uint64_t connections = 0;
      std::uint64_t nodes = 0;
      simdjson::dom::parser parser;
      for (const std::string& answer : answers) {
        std::uint64_t here = 0;
        if (parser.parse(answer)["connections"].get_uint64().get(here) != simdjson::SUCCESS || here == 0) continue;
        connections += here;
        ++nodes;
      }
      respond->respond(json_response(200, std::string("{\"online\":") + (connections > 0 ? "true" : "false") +
                                              ",\"connections\":" + std::to_string(connections) +
                                              ",\"nodes\":" + std::to_string(nodes) +
                                              ",\"complete\":" + (complete ? "true" : "false") + "}"));
    });
  });
}

void HttpApi::stats(const HttpRequest&, HttpResponder responder) {
  // Every node counts its connections; the answer adds them up. Users and
  // channels on several nodes count once: the broker knows the distinct
  // ones (one node: the sums are exact).
  auto respond = std::make_shared<HttpResponder>(std::move(responder));
  node_->post_task(0, [node = node_, respond] {
    node->broker()->ask_nodes("stats", [node, respond](std::vector<std::string> answers, bool complete) {
      if (answers.empty()) {
        respond->respond(error_response(503, "the broker cannot reach the nodes now"));
        return;
      }
      std::uint64_t connections = 0;
      std::uint64_t users = 0;
      std::uint64_t channels = 0;
      simdjson::dom::parser parser;
      for (const std::string& answer : answers) {
        object counts;
        if (parser.parse(answer).get_object().get(counts) != simdjson::SUCCESS) continue;
        std::uint64_t value = 0;
        if (counts["connections"].get_uint64().get(value) == simdjson::SUCCESS) connections += value;
        if (counts["users"].get_uint64().get(value) == simdjson::SUCCESS) users += value;
        if (counts["channels"].get_uint64().get(value) == simdjson::SUCCESS) channels += value;
      }
      std::string tail =
          ",\"nodes\":" + std::to_string(answers.size()) + ",\"complete\":" + (complete ? "true" : "false") + "}";
      // The answers may come on any thread; the broker is asked on worker 0.
      node->post_task(0, [node, respond, connections, users, channels, tail = std::move(tail)] {
        node->broker()->count_distinct([=](bool known, std::uint64_t distinct_users, std::uint64_t distinct_channels) {
          respond->respond(json_response(200, "{\"connections\":" + std::to_string(connections) + ",\"users\":" +
                                                  std::to_string(known ? distinct_users : users) + ",\"channels\":" +
                                                  std::to_string(known ? distinct_channels : channels) + tail));
        });
      });
    });
  });
}

}  // namespace switchboard::hub
