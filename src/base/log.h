// The log facade. Everything logs through here so the backend can change
// without touching callers (it is spdlog's stderr sink, in log.cc; no spdlog
// header is seen outside src/base). Rule: one line per connection event at
// most, never one per frame or per bad input from a peer (a flood of bad
// frames must not flood the log).
#pragma once

#include <cstdarg>

namespace switchboard::base {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// kText: `2026-11-29T03:40:18.123Z info message`.
// kJson: one object per line, `{"time":"…","level":"info","message":"…"}`;
// a message made of key=value tokens becomes fields instead of "message".
// The exact rules are in base/log_format.h.
enum class LogFormat { kText, kJson };

// Messages below this level are discarded before they are formatted.
// Thread-safe; set it before the workers start.
void set_log_level(LogLevel level);
LogLevel log_level();

// Thread-safe; set it before the workers start (a line being written while
// it changes comes out in either format, whole).
void set_log_format(LogFormat format);
LogFormat log_format();

// printf-style; one line (a newline is added) on stderr. Safe from any
// thread: the sink writes each line whole under its mutex, so lines from
// different threads never interleave. The formatted message is cut at 1023
// bytes (base::kMaxMessageBytes).
void log(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace switchboard::base
