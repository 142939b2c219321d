// JSON strings (RFC 8259 §7): the one escaper of the project, for protocol
// v1 messages and for JSON log lines. Quote, backslash and control
// characters are escaped (\" \\ \n \r \t, the rest as \u00XX); everything
// else is copied as it is.
#pragma once

#include <string>
#include <string_view>

namespace switchboard::base {

// Appends `text`, which must already be valid UTF-8 (a client's text frame,
// a name the protocol checked), as a JSON string. Copies runs of plain bytes
// at once: this is on the path of every message the hub encodes.
void append_json_string(std::string& out, std::string_view text);

// Appends any bytes as a JSON string that is always valid: an invalid UTF-8
// sequence becomes U+FFFD, and DEL is escaped too (\u007f) so that a log
// line read on a terminal shows it. For text from anywhere (log lines).
void append_json_string_lossy(std::string& out, std::string_view bytes);

}  // namespace switchboard::base
