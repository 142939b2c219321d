// The log facade. Everything logs through here so the backend can change
// (spdlog arrives with the production-guards issue, #5) without touching
// callers. Rule: one line per connection event at most, never one per frame
// or per bad input from a peer (a flood of bad frames must not flood the log).
#pragma once

#include <cstdarg>

namespace switchboard::base {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// Messages below this level are discarded. Thread-safe; set it before the
// workers start.
void set_log_level(LogLevel level);
LogLevel log_level();

// printf-style; one line (a newline is added). Safe from any thread: each
// line is written with a single write(2).
void log(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace switchboard::base
