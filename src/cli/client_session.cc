#include "cli/client_session.h"

#include <cstdio>
#include <memory>

#include "base/json_string.h"
#include "protocol/encode.h"

namespace switchboard::cli {
namespace {

std::string json_string(std::string_view text) {
  std::string out;
  base::append_json_string(out, text);
  return out;
}

std::string optional_user(const std::optional<std::string>& user) { return user ? json_string(*user) : "null"; }

std::string json_bool(bool value) { return value ? "true" : "false"; }

std::string publication_json(const Publication& publication) {
  return "{\"offset\":" + std::to_string(publication.offset) + ",\"data\":" + publication.data_json + "}";
}

// "epoch E, offset N"
std::string position_text(const SubscribedInfo& info) {
  return "epoch " + info.epoch + ", offset " + std::to_string(info.offset);
}

}  // namespace

std::optional<InputLine> split_input_line(std::string_view line) {
  const auto skip_space = [](std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    return text;
  };
  const auto next_word = [&](std::string_view* text) {
    *text = skip_space(*text);
    const std::size_t end = text->find_first_of(" \t");
    std::string word(text->substr(0, end));
    text->remove_prefix(end == std::string_view::npos ? text->size() : end);
    return word;
  };
  std::string_view rest = line;
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t' || rest.back() == '\r')) rest.remove_suffix(1);
  rest = skip_space(rest);
  if (rest.empty() || rest.front() == '#') return std::nullopt;
  InputLine input;
  input.verb = next_word(&rest);
  input.argument = next_word(&rest);
  input.rest = std::string(skip_space(rest));
  return input;
}

std::optional<HistoryOptions> parse_history_options(std::string_view rest) {
  HistoryOptions options;
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    const std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (word.empty()) continue;
    if (word == "reverse") {
      options.order = HistoryOrder::kNewestFirst;
    } else if (word.starts_with("since=")) {
      const std::string_view value = word.substr(6);
      const std::size_t colon = value.find(':');
      if (colon == std::string_view::npos || colon == 0) return std::nullopt;
      const std::string offset(value.substr(0, colon));
      if (offset.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
      options.since = StreamPosition{std::string(value.substr(colon + 1)), std::stoull(offset)};
    } else if (word.find_first_not_of("0123456789") == std::string_view::npos && word.size() < 19) {
      options.limit = std::stoull(std::string(word));
    } else {
      return std::nullopt;
    }
  }
  return options;
}

void EventPrinter::event(std::string_view kind, std::vector<std::pair<std::string_view, std::string>> fields,
                         const std::string& text) {
  std::string line;
  if (format_ == EventFormat::kJson) {
    line = "{\"event\":";
    base::append_json_string(line, kind);
    for (auto& [name, value] : fields) {
      line += ',';
      base::append_json_string(line, name);
      line += ':';
      line += value;
    }
    line += '}';
  } else {
    line = text;
  }
  line += '\n';
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

ClientOptions ClientSession::options(std::string token) {
  ClientOptions options;
  options.token = std::move(token);
  options.tls_ca_file = flags_.ca_file;
  options.reconnect = !flags_.no_reconnect;
  options.request_timeout_ms = flags_.timeout_ms;
  options.on_state = [this](const StateChange& change) { on_state(change); };
  options.on_error = [this](const ClientError& error) {
    printer_.event("error",
                   {{"kind", json_string(to_string(error.kind))},
                    {"code", std::to_string(error.code)},
                    {"message", json_string(error.message)}},
                   "! " + std::string(to_string(error.kind)) +
                       (error.code != 0 ? " " + std::to_string(error.code) : "") + ": " + error.message);
  };
  options.on_direct = [this](const std::optional<std::string>& from, std::string_view data) {
    printer_.event("direct", {{"from", optional_user(from)}, {"data", std::string(data)}},
                   "<" + from.value_or("server") + "> " + std::string(data));
  };
  return options;
}

bool ClientSession::run_line(std::string_view text) {
  const std::optional<InputLine> line = split_input_line(text);
  if (!line) return true;
  const std::uint64_t seq = ++seq_;
  const std::string& verb = line->verb;
  if (verb == "quit" || verb == "exit") return false;
  std::optional<HistoryOptions> history;
  if (verb == "history" && !line->argument.empty()) history = parse_history_options(line->rest);
  if (verb == "sub" && !line->argument.empty() && (line->rest.empty() || line->rest == "latest")) {
    subscribe(line->argument, seq, line->rest == "latest" ? Latest::kYes : Latest::kNo);
  } else if (history) {
    client_->history(line->argument, *history, answer("history", seq));
  } else if (verb == "unsub" && !line->argument.empty() && line->rest.empty()) {
    unsubscribe(line->argument, seq);
  } else if (verb == "pub" && !line->argument.empty() && !line->rest.empty()) {
    client_->publish(line->argument, line->rest, {}, answer("pub", seq));
  } else if (verb == "rpc" && !line->argument.empty()) {
    client_->rpc(line->argument, line->rest, {}, answer("rpc", seq));
  } else if (verb == "send" && !line->argument.empty() && !line->rest.empty()) {
    client_->send(line->argument, line->rest, {}, answer("send", seq));
  } else if (verb == "presence" && !line->argument.empty() && line->rest.empty()) {
    client_->presence(line->argument, {}, answer("presence", seq));
  } else if (verb == "ping" && line->argument.empty()) {
    client_->ping({}, answer("ping", seq));
  } else {
    failed_ = true;
    printer_.event("error",
                   {{"command", json_string(verb)},
                    {"seq", std::to_string(seq)},
                    {"kind", json_string("input")},
                    {"message", json_string("not understood: " + std::string(text))}},
                   "! not understood: " + std::string(text) +
                       " (sub CH [latest], unsub CH, pub CH JSON, rpc METHOD [JSON], send USER JSON, presence CH, "
                       "history CH [LIMIT] [reverse] [since=OFFSET:EPOCH], ping, quit)");
  }
  return true;
}

void ClientSession::on_state(const StateChange& change) {
  std::vector<std::pair<std::string_view, std::string>> fields = {{"state", json_string(to_string(change.state))}};
  std::string text = std::string("* ") + to_string(change.state);
  switch (change.state) {
    case ClientState::kConnected:
      fields.push_back({"client", json_string(change.client_id)});
      fields.push_back({"user", optional_user(change.user)});
      text += " (client " + change.client_id + ", user " + change.user.value_or("anonymous") + ")";
      break;
    case ClientState::kDisconnected:
      fields.push_back({"reason", json_string(change.reason)});
      fields.push_back({"delay_ms", std::to_string(change.reconnect_delay_ms)});
      fields.push_back({"attempt", std::to_string(change.attempt)});
      text += ": " + change.reason + "; reconnecting in " + std::to_string(change.reconnect_delay_ms) + " ms";
      break;
    case ClientState::kClosed:
      fields.push_back({"reason", json_string(change.reason)});
      fields.push_back({"code", std::to_string(change.close_code)});
      text += ": " + change.reason;
      if (!closing_) ended_ = true;  // not our doing: final
      break;
    case ClientState::kConnecting:
      break;
  }
  printer_.event("state", std::move(fields), text);
}

ResultCallback ClientSession::answer(std::string command, std::uint64_t seq) {
  ++outstanding_;
  return [this, command = std::move(command), seq](const Result& result) {
    if (result.ok()) {
      std::vector<std::pair<std::string_view, std::string>> fields = {
          {"command", json_string(command)}, {"seq", std::to_string(seq)}, {"data", result.data()}};
      std::string text = "< " + command + " " + result.data();
      if (result.reach() == Reach::kLocalOnly) {
        fields.push_back({"local_only", "true"});
        text += " (local only: the other nodes' subscribers did not get it)";
      }
      printer_.event("reply", std::move(fields), text);
    } else {
      report_failure(command, seq, result.error());
    }
    --outstanding_;
  };
}

void ClientSession::report_failure(const std::string& command, std::uint64_t seq, const ClientError& error) {
  failed_ = true;
  printer_.event("error",
                 {{"command", json_string(command)},
                  {"seq", std::to_string(seq)},
                  {"kind", json_string(to_string(error.kind))},
                  {"code", std::to_string(error.code)},
                  {"message", json_string(error.message)}},
                 "! " + command + ": " + std::string(to_string(error.kind)) +
                     (error.code != 0 ? " " + std::to_string(error.code) : "") + ": " + error.message);
}

void ClientSession::subscribed(const std::string& channel, std::uint64_t seq, const SubscribedInfo& info) {
  std::vector<std::pair<std::string_view, std::string>> fields = {{"channel", json_string(channel)},
                                                                  {"seq", std::to_string(seq)}};
  std::string text = "* subscribed " + channel;
  // A channel without a stream, nothing asked: the event as it always was.
  if (info.recoverable || info.was_recovering) {
    fields.push_back({"recoverable", json_bool(info.recoverable)});
    fields.push_back({"was_recovering", json_bool(info.was_recovering)});
    fields.push_back({"recovered", json_bool(info.recovered)});
    if (info.recoverable) {
      fields.push_back({"epoch", json_string(info.epoch)});
      fields.push_back({"offset", std::to_string(info.offset)});
    }
    if (info.was_recovering) fields.push_back({"recovered_count", std::to_string(info.recovered_count)});
    if (!info.recoverable) {
      text += " (no stream)";
    } else if (info.recovered) {
      text += " (recovered " + std::to_string(info.recovered_count) + "; " + position_text(info) + ")";
    } else {
      text += " (" + position_text(info) + ")";
    }
  }
  if (info.latest) {
    fields.push_back({"latest", publication_json(*info.latest)});
    text += " latest #" + std::to_string(info.latest->offset) + " " + info.latest->data_json;
  }
  printer_.event("subscribed", std::move(fields), text);
}

void ClientSession::recovery_failed(const std::string& channel, std::uint64_t seq, const SubscribedInfo& info) {
  std::vector<std::pair<std::string_view, std::string>> fields = {{"channel", json_string(channel)},
                                                                  {"seq", std::to_string(seq)}};
  if (info.reset) {
    // The subscription stays; what was published before may not all come.
    fields.push_back({"epoch", json_string(info.epoch)});
    fields.push_back({"offset", std::to_string(info.offset)});
    printer_.event("reset", std::move(fields),
                   "! reset on " + channel +
                       ": the stream's past was lost, publications may have been missed; now at " +
                       position_text(info));
    return;
  }
  fields.push_back({"recoverable", json_bool(info.recoverable)});
  std::string text = "! recovery failed on " + channel + ": publications were missed";
  if (info.recoverable) {
    fields.push_back({"epoch", json_string(info.epoch)});
    fields.push_back({"offset", std::to_string(info.offset)});
    text += "; now at " + position_text(info);
  }
  printer_.event("recovery_failed", std::move(fields), text);
}

void ClientSession::subscribe(const std::string& channel, std::uint64_t seq, Latest latest) {
  ++outstanding_;
  // The first on_subscribed or on_error settles the command (later ones
  // follow reconnects); so does an unsub before either.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  auto settle = [this, answered] {
    if (!answered->exchange(true)) --outstanding_;
  };
  SubscriptionHandlers handlers;
  handlers.on_message = [this, channel](std::string_view data, std::uint64_t offset) {
    printer_.event("message",
                   {{"channel", json_string(channel)}, {"offset", std::to_string(offset)}, {"data", std::string(data)}},
                   "[" + channel + " #" + std::to_string(offset) + "] " + std::string(data));
  };
  handlers.on_join = [this](const PresenceEvent& event) { presence_event("join", "+ ", event); };
  handlers.on_leave = [this](const PresenceEvent& event) { presence_event("leave", "- ", event); };
  handlers.on_subscribed = [this, channel, seq, settle](const SubscribedInfo& info) {
    subscribed(channel, seq, info);
    settle();
  };
  handlers.on_recovery_failed = [this, channel, seq](const SubscribedInfo& info) {
    recovery_failed(channel, seq, info);
  };
  handlers.on_error = [this, channel, seq, settle](const ClientError& error) {
    report_failure("sub", seq, error);
    settle();
  };
  std::lock_guard lock(mutex_);
  subscriptions_[channel] = {client_->subscribe(channel, std::move(handlers), SubscribeOptions{.latest = latest}),
                             settle};
}

void ClientSession::unsubscribe(const std::string& channel, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  auto entry = subscriptions_.find(channel);
  if (entry == subscriptions_.end()) {
    failed_ = true;
    printer_.event("error",
                   {{"command", json_string("unsub")},
                    {"seq", std::to_string(seq)},
                    {"kind", json_string("input")},
                    {"message", json_string("not subscribed to " + channel)}},
                   "! unsub: not subscribed to " + channel);
    return;
  }
  entry->second.first.unsubscribe();
  entry->second.second();
  subscriptions_.erase(entry);
  printer_.event("unsubscribed", {{"channel", json_string(channel)}, {"seq", std::to_string(seq)}},
                 "* unsubscribed " + channel);
}

void ClientSession::presence_event(std::string_view kind, const std::string& sign, const PresenceEvent& event) {
  std::vector<std::pair<std::string_view, std::string>> fields = {{"channel", json_string(event.channel)},
                                                                  {"user", optional_user(event.user)},
                                                                  {"client", json_string(event.client)}};
  if (kind == "join") fields.push_back({"info", event.info_json});
  printer_.event(kind, std::move(fields),
                 sign + event.channel + " " + event.user.value_or("anonymous") + " (client " + event.client + ")");
}

}  // namespace switchboard::cli
