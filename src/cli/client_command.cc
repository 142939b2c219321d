#include "cli/client_command.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "hub/encode.h"
#include "switchboard/client.h"

namespace switchboard::cli {
namespace {

constexpr const char* kHelp =
    "Connect to a switchboard server and speak protocol v1 from the terminal.\n"
    "Commands, one per line on stdin:\n"
    "  sub CH | unsub CH | pub CH JSON | rpc METHOD [JSON] | send USER JSON |\n"
    "  presence CH | ping | quit\n"
    "Everything that arrives (messages, join/leave, direct messages, replies,\n"
    "errors, state changes) is printed to stdout; --json prints one JSON object\n"
    "per line with an \"event\" field (state, subscribed, message, join, leave,\n"
    "direct, reply, error); replies and errors carry the command and its \"seq\"\n"
    "(the number of the command line, from 1).\n"
    "Commands run one at a time: each waits for its answer (at most --timeout-ms)\n"
    "before the next line is read. At the end of stdin (or `quit`) the client\n"
    "exits; with --stay it keeps printing until SIGINT/SIGTERM or a final close.\n"
    "Reconnects on its own unless --no-reconnect.\n"
    "Exit status: 0 all commands succeeded; 1 a command failed or a line was not\n"
    "understood; 2 the connection ended for good (the server closed it finally,\n"
    "or it was lost with --no-reconnect); 3 bad arguments.";

struct ClientFlags {
  std::string url;
  std::string token;
  std::string token_env;
  std::string ca_file;
  std::vector<std::string> subscribe;
  bool json = false;
  bool no_reconnect = false;
  bool stay = false;
  std::uint64_t timeout_ms = 10'000;
};

volatile sig_atomic_t stop_signal = 0;
extern "C" void on_stop_signal(int) { stop_signal = 1; }

// Prints events, as text or JSON lines, from any thread.
class Printer {
 public:
  explicit Printer(bool json) : json_(json) {}

  // fields: pairs of name and JSON value, for --json; text for the rest.
  void event(std::string_view kind, std::vector<std::pair<std::string_view, std::string>> fields,
             const std::string& text) {
    std::string line;
    if (json_) {
      line = "{\"event\":";
      hub::append_json_string(line, kind);
      for (auto& [name, value] : fields) {
        line += ',';
        hub::append_json_string(line, name);
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

 private:
  bool json_;
  std::mutex mutex_;
};

std::string json_string(std::string_view text) {
  std::string out;
  hub::append_json_string(out, text);
  return out;
}

std::string optional_user(const std::optional<std::string>& user) { return user ? json_string(*user) : "null"; }

// The session: the Client, its subscriptions, and what is outstanding.
class Session {
 public:
  explicit Session(const ClientFlags& flags) : flags_(flags), printer_(flags.json) {}

  ClientOptions options(std::string token) {
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

  void attach(Client& client) { client_ = &client; }

  // Runs one input line; false for `quit`.
  bool run_line(std::string_view text) {
    const std::optional<InputLine> line = split_input_line(text);
    if (!line) return true;
    const std::uint64_t seq = ++seq_;
    const std::string& verb = line->verb;
    if (verb == "quit" || verb == "exit") return false;
    if (verb == "sub" && !line->argument.empty() && line->rest.empty()) {
      subscribe(line->argument, seq);
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
                         " (sub CH, unsub CH, pub CH JSON, rpc METHOD [JSON], send USER JSON, presence CH, ping, "
                         "quit)");
    }
    return true;
  }

  void subscribe_at_start(const std::string& channel) { subscribe(channel, 0); }

  int outstanding() const { return outstanding_.load(); }
  bool failed() const { return failed_.load(); }
  bool ended() const { return ended_.load(); }

 private:
  void on_state(const StateChange& change) {
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

  ResultCallback answer(std::string command, std::uint64_t seq) {
    ++outstanding_;
    return [this, command = std::move(command), seq](const Result& result) {
      if (result.ok()) {
        printer_.event("reply",
                       {{"command", json_string(command)}, {"seq", std::to_string(seq)}, {"data", result.data()}},
                       "< " + command + " " + result.data());
      } else {
        report_failure(command, seq, result.error());
      }
      --outstanding_;
    };
  }

  void report_failure(const std::string& command, std::uint64_t seq, const ClientError& error) {
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

  void subscribe(const std::string& channel, std::uint64_t seq) {
    ++outstanding_;
    // The first on_subscribed or on_error settles the command (later ones
    // follow reconnects); so does an unsub before either.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto settle = [this, answered] {
      if (!answered->exchange(true)) --outstanding_;
    };
    SubscriptionHandlers handlers;
    handlers.on_message = [this, channel](std::string_view data, std::uint64_t offset) {
      printer_.event(
          "message",
          {{"channel", json_string(channel)}, {"offset", std::to_string(offset)}, {"data", std::string(data)}},
          "[" + channel + " #" + std::to_string(offset) + "] " + std::string(data));
    };
    handlers.on_join = [this](const PresenceEvent& event) { presence_event("join", "+ ", event); };
    handlers.on_leave = [this](const PresenceEvent& event) { presence_event("leave", "- ", event); };
    handlers.on_subscribed = [this, channel, seq, settle] {
      printer_.event("subscribed", {{"channel", json_string(channel)}, {"seq", std::to_string(seq)}},
                     "* subscribed " + channel);
      settle();
    };
    handlers.on_error = [this, channel, seq, settle](const ClientError& error) {
      report_failure("sub", seq, error);
      settle();
    };
    std::lock_guard lock(mutex_);
    subscriptions_[channel] = {client_->subscribe(channel, std::move(handlers)), settle};
  }

  void unsubscribe(const std::string& channel, std::uint64_t seq) {
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

  void presence_event(std::string_view kind, const std::string& sign, const PresenceEvent& event) {
    std::vector<std::pair<std::string_view, std::string>> fields = {{"channel", json_string(event.channel)},
                                                                    {"user", optional_user(event.user)},
                                                                    {"client", json_string(event.client)}};
    if (kind == "join") fields.push_back({"info", event.info_json});
    printer_.event(kind, std::move(fields),
                   sign + event.channel + " " + event.user.value_or("anonymous") + " (client " + event.client + ")");
  }

 public:
  void set_closing() { closing_ = true; }

 private:
  const ClientFlags& flags_;
  Printer printer_;
  Client* client_ = nullptr;
  std::uint64_t seq_ = 0;  // main thread
  std::atomic<int> outstanding_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> ended_{false};
  std::atomic<bool> closing_{false};
  std::mutex mutex_;                                                                     // subscriptions_
  std::map<std::string, std::pair<Subscription, std::function<void()>>> subscriptions_;  // with its settle()
};

// Reads stdin in lines without blocking past stop conditions: false at EOF.
class LineReader {
 public:
  // Waits up to wait_ms for a line; *line gets it when true is returned and
  // *got is set.
  bool next(std::string* line, bool* got, int wait_ms) {
    *got = false;
    if (take_line(line)) {
      *got = true;
      return true;
    }
    if (eof_) {
      if (buffer_.empty()) return false;
      *line = std::move(buffer_);  // a last line without a newline
      buffer_.clear();
      *got = true;
      return true;
    }
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&fd, 1, wait_ms);
    if (ready <= 0) return true;  // timeout or a signal
    char chunk[4096];
    const ssize_t size = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (size < 0 && errno == EINTR) return true;
    if (size <= 0) {
      eof_ = true;
      return true;
    }
    buffer_.append(chunk, static_cast<std::size_t>(size));
    if (take_line(line)) *got = true;
    return true;
  }

 private:
  bool take_line(std::string* line) {
    const std::size_t newline = buffer_.find('\n');
    if (newline == std::string::npos) return false;
    *line = buffer_.substr(0, newline);
    buffer_.erase(0, newline + 1);
    if (!line->empty() && line->back() == '\r') line->pop_back();
    return true;
  }
  std::string buffer_;
  bool eof_ = false;
};

int run_client(const ClientFlags& flags) {
  std::string token = flags.token;
  if (!flags.token_env.empty()) {
    const char* value = std::getenv(flags.token_env.c_str());
    if (value == nullptr) {
      std::fprintf(stderr, "switchboard client: --token-env: $%s is not set\n", flags.token_env.c_str());
      return 3;
    }
    token = value;
  }
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  Session session(flags);
  Client client(session.options(std::move(token)));
  session.attach(client);
  if (std::string error = client.connect(flags.url); !error.empty()) {
    std::fprintf(stderr, "switchboard client: %s\n", error.c_str());
    return 3;
  }
  // One command at a time: each waits for its answer, at most the request
  // timeout (plus a little: a request queued while disconnected has no
  // timer yet), so a script's output follows its lines.
  const auto wait_for_answers = [&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(flags.timeout_ms + 500);
    while (session.outstanding() > 0 && stop_signal == 0 && !session.ended() &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  for (const std::string& channel : flags.subscribe) session.subscribe_at_start(channel);
  wait_for_answers();

  LineReader reader;
  std::string line;
  bool got = false;
  bool reading = true;
  while (reading && stop_signal == 0 && !session.ended()) {
    reading = reader.next(&line, &got, 100);
    if (!got) continue;
    if (!session.run_line(line)) break;
    wait_for_answers();
  }
  while (flags.stay && stop_signal == 0 && !session.ended()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool ended = session.ended();
  session.set_closing();
  client.close();
  // What was still outstanding fails with "closed" (and counts as failed);
  // wait for those answers so they are printed before we exit.
  const auto close_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (session.outstanding() > 0 && std::chrono::steady_clock::now() < close_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (ended) return 2;
  return session.failed() ? 1 : 0;
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

void add_client_command(CLI::App& app) {
  auto flags = std::make_shared<ClientFlags>();
  CLI::App* command = app.add_subcommand("client", kHelp);
  command->add_option("url", flags->url, "ws://host[:port]/path or wss://...")->required();
  command->add_option("--token", flags->token, "Connection token, sent in the first connect command");
  command->add_option("--token-env", flags->token_env,
                      "Read the token from this environment variable (keeps it out of the process list)");
  command->add_option("--ca-file", flags->ca_file, "wss://: PEM file of the CAs to trust (default: the system's)");
  command->add_option("--subscribe", flags->subscribe, "Subscribe to this channel at start (repeatable)");
  command->add_flag("--json", flags->json, "Print one JSON object per line");
  command->add_flag("--no-reconnect", flags->no_reconnect, "A lost connection is final (exit status 2)");
  command->add_flag("--stay", flags->stay, "At the end of stdin, keep printing until SIGINT/SIGTERM");
  command->add_option("--timeout-ms", flags->timeout_ms, "Request timeout; also the wait for answers at the end")
      ->capture_default_str();
  command->callback([flags] { std::exit(run_client(*flags)); });
}

}  // namespace switchboard::cli
