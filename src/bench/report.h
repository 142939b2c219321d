// The figures of a finished run, as text for people (stdout, or stderr with
// --json) and as one JSON object (stdout, --json). The JSON is a small
// fixed schema written by hand; strings are escaped per RFC 8259 §7.
#pragma once

#include <string>
#include <string_view>

#include "bench/runner.h"

namespace switchboard::bench {

std::string format_human(const RunResult& result);
// Exit status 0: no errors, no failed connections, nothing cut short, and
// every accepted publication delivered (missing_deliveries is 0). Publishes
// the server refused are reported, not failures: it said so.
bool run_is_clean(const RunResult& result);
std::string format_json(const RunResult& result);

// The JSON string literal for text, quotes included (base/json_string.h,
// lossy: an invalid UTF-8 sequence becomes U+FFFD, so the output always
// parses).
std::string json_string(std::string_view text);

// 12.3 us, 4.56 ms, 1.20 s: a latency for people.
std::string format_duration_ns(double ns);

}  // namespace switchboard::bench
