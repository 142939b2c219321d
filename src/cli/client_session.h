// The session of `switchboard client`: each command line read from stdin
// runs on the C++ client (include/switchboard/client.h), and everything
// that happens is printed, as readable lines or (--json) one JSON object
// per line. client_command.cc reads stdin and drives it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchboard/client.h"

namespace switchboard::cli {

// The command's flags.
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

// One line of input, split: `pub chat:lobby {"text":"hi"}` is verb "pub",
// argument "chat:lobby", rest `{"text":"hi"}`.
struct InputLine {
  std::string verb;
  std::string argument;
  std::string rest;
};

// nullopt for a blank line or a # comment.
std::optional<InputLine> split_input_line(std::string_view line);

// The words after `history CH`: a number is the limit, `reverse` the
// order, `since=OFFSET:EPOCH` the position (the epoch may hold ':');
// nullopt when a word is none of these.
std::optional<HistoryOptions> parse_history_options(std::string_view words);

enum class EventFormat : std::uint8_t {
  kText,  // readable lines
  kJson,  // --json: one JSON object per line
};

// Prints events, as text or JSON lines, from any thread.
class EventPrinter {
 public:
  explicit EventPrinter(EventFormat format) : format_(format) {}

  // fields: pairs of name and JSON value, for --json; text for the rest.
  void event(std::string_view kind, std::vector<std::pair<std::string_view, std::string>> fields,
             const std::string& text);

 private:
  EventFormat format_;
  std::mutex mutex_;
};

// The client's callbacks, the subscriptions made from the input, and the
// commands still waiting for their answer. run_line() runs on the thread
// that reads stdin; the callbacks on the client's loop thread.
class ClientSession {
 public:
  explicit ClientSession(const ClientFlags& flags)
      : flags_(flags), printer_(flags.json ? EventFormat::kJson : EventFormat::kText) {}

  // The Client's options, with this session's callbacks.
  ClientOptions options(std::string token);
  void attach(Client& client) { client_ = &client; }

  // Runs one input line; false for `quit`.
  bool run_line(std::string_view text);
  void subscribe_at_start(const std::string& channel) { subscribe(channel, 0, Latest::kNo); }
  // The application closes the client now: the close that follows is not final news.
  void set_closing() { closing_ = true; }

  // Commands still waiting for their answer.
  int outstanding() const { return outstanding_.load(); }
  // A command failed, or a line was not understood.
  bool failed() const { return failed_.load(); }
  // The server ended the connection for good.
  bool ended() const { return ended_.load(); }

 private:
  void on_state(const StateChange& change);
  // The callback of a request: prints its answer and counts it settled.
  ResultCallback answer(std::string command, std::uint64_t seq);
  void report_failure(const std::string& command, std::uint64_t seq, const ClientError& error);
  void subscribe(const std::string& channel, std::uint64_t seq, Latest latest);
  // Prints a subscribe reply: the recovery outcome and position on a stream.
  void subscribed(const std::string& channel, std::uint64_t seq, const SubscribedInfo& info);
  // on_recovery_failed: `recovery_failed` after a subscribe reply, `reset`
  // when the server reset the subscription in place.
  void recovery_failed(const std::string& channel, std::uint64_t seq, const SubscribedInfo& info);
  void unsubscribe(const std::string& channel, std::uint64_t seq);
  void presence_event(std::string_view kind, const std::string& sign, const PresenceEvent& event);

  const ClientFlags& flags_;
  EventPrinter printer_;
  Client* client_ = nullptr;
  std::uint64_t seq_ = 0;  // the stdin thread
  std::atomic<int> outstanding_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> ended_{false};
  std::atomic<bool> closing_{false};
  std::mutex mutex_;                                                                     // subscriptions_
  std::map<std::string, std::pair<Subscription, std::function<void()>>> subscriptions_;  // with its settle()
};

}  // namespace switchboard::cli
