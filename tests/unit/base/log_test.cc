#include "base/log.h"

#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

// Captures what log() writes to stderr.
std::string capture(LogLevel threshold, LogLevel level, const char* text) {
  int pipe_fds[2];
  EXPECT_EQ(pipe(pipe_fds), 0);
  int saved = dup(STDERR_FILENO);
  dup2(pipe_fds[1], STDERR_FILENO);
  set_log_level(threshold);
  log(level, "%s %d", text, 42);
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

}  // namespace
}  // namespace switchboard::base
