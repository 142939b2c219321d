#include "base/log.h"

#include <unistd.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

// Captures what `write` logs to stderr.
std::string capture_stderr(LogLevel threshold, const std::function<void()>& write) {
  int pipe_fds[2];
  EXPECT_EQ(pipe(pipe_fds), 0);
  int saved = dup(STDERR_FILENO);
  dup2(pipe_fds[1], STDERR_FILENO);
  set_log_level(threshold);
  write();
  set_log_level(LogLevel::kInfo);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(pipe_fds[1]);
  std::string out;
  char buffer[2048];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
  close(pipe_fds[0]);
  return out;
}

std::string capture(LogLevel threshold, LogLevel level, const char* text) {
  return capture_stderr(threshold, [&] { log(level, "%s %d", text, 42); });
}

TEST(Log, WritesOneLineWithLevelAndText) {
  std::string line = capture(LogLevel::kInfo, LogLevel::kWarn, "hello");
  EXPECT_NE(line.find(" warn hello 42\n"), std::string::npos);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(Log, DropsLinesBelowTheLevel) { EXPECT_EQ(capture(LogLevel::kWarn, LogLevel::kInfo, "quiet"), ""); }

TEST(Log, TruncatesOverlongLinesButKeepsTheNewline) {
  std::string huge(5000, 'z');
  std::string line = capture(LogLevel::kDebug, LogLevel::kError, huge.c_str());
  EXPECT_LE(line.size(), 1024u);
  EXPECT_EQ(line.back(), '\n');
}

TEST(Log, WritesJsonWhenAskedTo) {
  set_log_format(LogFormat::kJson);
  std::string line = capture_stderr(LogLevel::kInfo, [] { log(LogLevel::kError, "event=open client=%d n=%d", 7, 42); });
  set_log_format(LogFormat::kText);
  EXPECT_EQ(line.substr(0, 9), R"({"time":")");
  EXPECT_NE(line.find(R"(Z","level":"error","event":"open","client":"7","n":"42"}
)"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

// Threads that log at once: every line arrives whole (spdlog's sink
// serialises them), none is lost. A reader drains the pipe meanwhile, since
// the lines are more than a pipe holds.
TEST(Log, LinesFromManyThreadsNeverInterleave) {
  constexpr int kThreads = 4;
  constexpr int kLines = 300;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  std::string out;
  std::thread reader([&] {
    char buffer[4096];
    ssize_t n;
    while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
  });
  int saved = dup(STDERR_FILENO);
  dup2(pipe_fds[1], STDERR_FILENO);
  const std::string padding(200, 'p');
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([t, &padding] {
      for (int i = 0; i < kLines; ++i) log(LogLevel::kInfo, "thread=%d line=%d pad=%s", t, i, padding.c_str());
    });
  }
  for (std::thread& writer : writers) writer.join();
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(pipe_fds[1]);
  reader.join();
  close(pipe_fds[0]);
  int lines = 0;
  std::size_t start = 0;
  for (std::size_t end = out.find('\n'); end != std::string::npos; end = out.find('\n', start)) {
    const std::string line = out.substr(start, end - start);
    EXPECT_NE(line.find(" info thread="), std::string::npos) << line;
    EXPECT_EQ(line.substr(line.size() - padding.size() - 5), " pad=" + padding) << line;
    ++lines;
    start = end + 1;
  }
  EXPECT_EQ(start, out.size());
  EXPECT_EQ(lines, kThreads * kLines);
}

}  // namespace
}  // namespace switchboard::base
