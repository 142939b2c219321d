#include "base/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "base/log_format.h"

namespace switchboard::base {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kText};

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      break;
  }
  return spdlog::level::off;
}

LogLevel from_spdlog(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return LogLevel::kDebug;
    case spdlog::level::info:
      return LogLevel::kInfo;
    case spdlog::level::warn:
      return LogLevel::kWarn;
    case spdlog::level::err:
    case spdlog::level::critical:
      return LogLevel::kError;
    default:
      break;
  }
  return LogLevel::kOff;
}

// Writes every line with format_log_line; spdlog supplies the time and the
// level. Runs in the sink, under the sink's mutex.
class LineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override {
    const auto since_epoch = message.time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    timespec time{};
    time.tv_sec = static_cast<std::time_t>(seconds.count());
    time.tv_nsec =
        static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count());
    const std::string line = format_log_line(g_format.load(std::memory_order_relaxed), from_spdlog(message.level), time,
                                             std::string_view(message.payload.data(), message.payload.size()));
    out.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(); }
};

// The process's one logger: spdlog's synchronous stderr sink (stderr_sink_mt
// holds a process-wide console mutex while it formats and writes a line, and
// stderr is unbuffered: one write(2) per line). It is not registered with
// spdlog's registry, so an embedder's own spdlog setup does not touch it,
// and it is never destroyed, so a thread may log while statics are torn
// down.
spdlog::logger& logger() {
  static spdlog::logger* const instance = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<LineFormatter>());
    auto* created = new spdlog::logger("switchboard", std::move(sink));
    // Levels are filtered in log(), before anything is formatted.
    created->set_level(spdlog::level::trace);
    return created;
  }();
  return *instance;
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }

LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

void set_log_format(LogFormat format) { g_format.store(format, std::memory_order_relaxed); }

LogFormat log_format() { return g_format.load(std::memory_order_relaxed); }

void log(LogLevel level, const char* format, ...) {
  if (level < log_level()) return;
  char message[kMaxMessageBytes + 1];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  if (n < 0) return;
  const std::size_t length =
      static_cast<std::size_t>(n) < sizeof message ? static_cast<std::size_t>(n) : kMaxMessageBytes;
  logger().log(to_spdlog(level), spdlog::string_view_t(message, length));
}

}  // namespace switchboard::base
