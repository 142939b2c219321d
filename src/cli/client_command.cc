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

#include "cli/client_session.h"
#include "switchboard/client.h"

namespace switchboard::cli {
namespace {

constexpr const char* kHelp =
    "Connect to a switchboard server and speak protocol v1 from the terminal.\n"
    "Commands, one per line on stdin:\n"
    "  sub CH [latest] | unsub CH | pub CH JSON | rpc METHOD [JSON] |\n"
    "  send USER JSON | presence CH | history CH [LIMIT] [reverse] [since=OFFSET:EPOCH] |\n"
    "  ping | quit\n"
    "Everything that arrives (messages with their offsets, join/leave, direct\n"
    "messages, replies, errors, state changes) is printed to stdout; --json prints\n"
    "one JSON object per line with an \"event\" field (state, subscribed,\n"
    "recovery_failed, reset, message, join, leave, direct, reply, error); replies\n"
    "and errors carry the command and its \"seq\" (the number of the command\n"
    "line, from 1). On a channel with history, `subscribed` tells the stream\n"
    "position (epoch, offset) and, after a reconnect, whether the missed messages\n"
    "were recovered (they are printed before any live one); recovery_failed says\n"
    "some were lost, and so does reset (the server lost the stream's past while\n"
    "subscribed: the subscription stays, at the new epoch and offset).\n"
    "Commands run one at a time: each waits for its answer (at most --timeout-ms)\n"
    "before the next line is read. At the end of stdin (or `quit`) the client\n"
    "exits; with --stay it keeps printing until SIGINT/SIGTERM or a final close.\n"
    "Reconnects on its own unless --no-reconnect.\n"
    "Exit status: 0 all commands succeeded; 1 a command failed or a line was not\n"
    "understood; 2 the connection ended for good (the server closed it finally,\n"
    "or it was lost with --no-reconnect); 3 bad arguments.";

volatile sig_atomic_t stop_signal = 0;
extern "C" void on_stop_signal(int) { stop_signal = 1; }

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

  ClientSession session(flags);
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
