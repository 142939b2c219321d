// How one log line is written, apart from where it goes (log.cc hands it to
// spdlog's stderr sink). Internal to base; pure, so that tests check lines
// without capturing stderr.
#pragma once

#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>

#include "base/log.h"

namespace switchboard::base {

// Bytes of a message that are logged: log() formats into a buffer of
// kMaxMessageBytes + 1, and format_log_line ignores anything past them.
inline constexpr std::size_t kMaxMessageBytes = 1023;
// A text line, its newline included, is cut to this many bytes.
inline constexpr std::size_t kMaxTextLineBytes = 1024;
// A JSON line is never cut (it would no longer parse); escaping makes it at
// most six bytes per message byte (a control character is \u00XX) plus the
// time and level.
inline constexpr std::size_t kMaxJsonLineBytes = 6 * kMaxMessageBytes + 64;

// One complete line, ending in '\n'. `time` is UTC wall-clock time,
// written to the millisecond.
//
// kText: `2026-11-29T03:40:18.123Z info message`, the message as it is (a
// newline in it is not escaped), cut so that the line has at most
// kMaxTextLineBytes.
//
// kJson: one JSON object (RFC 8259) on one line, always valid whatever the
// message holds:
//   {"time":"2026-11-29T03:40:18.123Z","level":"info","message":"…"}
// When the whole message is key=value tokens separated by single spaces,
// the tokens become string fields in their order instead of "message":
//   event=close client=12 reason="bye"
//   {"time":"…","level":"info","event":"close","client":"12","reason":"bye"}
// A key is [A-Za-z_][A-Za-z0-9_.-]*; a value is either a JSON string (kept
// as the string it encodes; a lone surrogate becomes U+FFFD) or a run of
// non-space bytes that does not start with '"' (it may be empty). A message
// with anything else, with a key twice, or with a key "time", "level" or
// "message" is written whole as "message". Strings are escaped: quote,
// backslash, control characters and DEL; every byte that is not part of a
// valid UTF-8 sequence (RFC 3629) becomes U+FFFD.
std::string format_log_line(LogFormat format, LogLevel level, timespec time, std::string_view message);

// "debug", "info", "warn", "error" ("off" for kOff).
const char* log_level_name(LogLevel level);

}  // namespace switchboard::base
