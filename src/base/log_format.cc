#include "base/log_format.h"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "base/json_string.h"

namespace switchboard::base {
namespace {

// "2026-11-29T03:40:18.123Z": 24 characters.
void append_time(std::string& out, timespec time) {
  tm utc{};
  gmtime_r(&time.tv_sec, &utc);
  char text[64];
  const int n =
      std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                    utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, time.tv_nsec / 1'000'000);
  if (n > 0 && static_cast<std::size_t>(n) < sizeof text) out.append(text, static_cast<std::size_t>(n));
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

bool read_hex4(std::string_view text, std::size_t at, std::uint32_t* value) {
  if (at > text.size() || text.size() - at < 4) return false;
  std::uint32_t result = 0;
  for (std::size_t k = at; k < at + 4; ++k) {
    const char c = text[k];
    std::uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    result = result << 4 | digit;
  }
  *value = result;
  return true;
}

// Decodes the JSON string (RFC 8259 §7) whose opening quote is text[*at]
// into *out and moves *at past its closing quote; false if it is not one.
// A lone surrogate (\ud800 without its pair) decodes to U+FFFD; bytes that
// are not UTF-8 are copied, and escaped later.
bool read_json_string(std::string_view text, std::size_t* at, std::string* out) {
  std::size_t i = *at + 1;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i++]);
    if (c == '"') {
      *at = i;
      return true;
    }
    if (c < 0x20) return false;
    if (c != '\\') {
      out->push_back(static_cast<char>(c));
      continue;
    }
    if (i == text.size()) return false;
    switch (text[i++]) {
      case '"':
        out->push_back('"');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '/':
        out->push_back('/');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        std::uint32_t unit = 0;
        if (!read_hex4(text, i, &unit)) return false;
        i += 4;
        std::uint32_t code_point = unit;
        std::uint32_t low = 0;
        if (unit >= 0xD800 && unit <= 0xDBFF && text.substr(i, 2) == "\\u" && read_hex4(text, i + 2, &low) &&
            low >= 0xDC00 && low <= 0xDFFF) {
          code_point = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        } else if (unit >= 0xD800 && unit <= 0xDFFF) {
          code_point = 0xFFFD;
        }
        append_utf8(*out, code_point);
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

bool is_key_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool is_key_char(char c) { return is_key_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

struct LogField {
  std::string_view key;
  std::string value;  // decoded when it was a JSON string
};

// The message as key=value tokens (the rules in log_format.h), or false.
bool parse_fields(std::string_view message, std::vector<LogField>* fields) {
  std::size_t i = 0;
  while (i < message.size()) {
    const std::size_t key_start = i;
    if (!is_key_start(message[i])) return false;
    while (i < message.size() && is_key_char(message[i])) ++i;
    if (i == message.size() || message[i] != '=') return false;
    LogField field{message.substr(key_start, i - key_start), {}};
    ++i;
    if (i < message.size() && message[i] == '"') {
      if (!read_json_string(message, &i, &field.value)) return false;
    } else {
      const std::size_t value_start = i;
      while (i < message.size() && message[i] != ' ') ++i;
      field.value.assign(message.data() + value_start, i - value_start);
    }
    if (field.key == "time" || field.key == "level" || field.key == "message") return false;
    for (const LogField& earlier : *fields) {
      if (earlier.key == field.key) return false;
    }
    fields->push_back(std::move(field));
    if (i == message.size()) break;
    // Exactly one space, then another token.
    if (message[i] != ' ' || ++i == message.size()) return false;
  }
  return !fields->empty();
}

}  // namespace

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      break;
  }
  return "off";
}

std::string format_log_line(LogFormat format, LogLevel level, timespec time, std::string_view message) {
  if (message.size() > kMaxMessageBytes) message = message.substr(0, kMaxMessageBytes);
  std::string line;
  if (format == LogFormat::kText) {
    line.reserve(32 + message.size());
    append_time(line, time);
    line += ' ';
    line += log_level_name(level);
    line += ' ';
    line += message;
    if (line.size() > kMaxTextLineBytes - 1) line.resize(kMaxTextLineBytes - 1);
    line += '\n';
    return line;
  }
  line.reserve(64 + message.size() + message.size() / 4);
  line += R"({"time":")";
  append_time(line, time);
  line += R"(","level":")";
  line += log_level_name(level);
  line += '"';
  std::vector<LogField> fields;
  if (parse_fields(message, &fields)) {
    for (const LogField& field : fields) {
      line += ',';
      append_json_string_lossy(line, field.key);
      line += ':';
      append_json_string_lossy(line, field.value);
    }
  } else {
    line += R"(,"message":)";
    append_json_string_lossy(line, message);
  }
  line += "}\n";
  return line;
}

}  // namespace switchboard::base
