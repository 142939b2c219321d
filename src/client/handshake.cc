#include "client/handshake.h"

#include <charconv>

#include "http/upgrade.h"

namespace switchboard::client {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

struct Field {
  std::string_view name;
  std::string_view value;
};

// "HTTP/1.1 101 Switching Protocols" (RFC 9112 §4); false if malformed.
bool parse_status_line(std::string_view line, int* status) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return false;
  if (line[7] < '0' || line[7] > '9') return false;
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return false;
  *status = code;
  return true;
}

}  // namespace

const char* describe(HandshakeError error) {
  switch (error) {
    case HandshakeError::kNone:
      return "ok";
    case HandshakeError::kMalformedResponse:
      return "malformed HTTP response";
    case HandshakeError::kHeadTooLarge:
      return "response head too large";
    case HandshakeError::kNotSwitching:
      return "status is not 101";
    case HandshakeError::kMissingUpgrade:
      return "Upgrade: websocket missing";
    case HandshakeError::kMissingConnection:
      return "Connection: Upgrade missing";
    case HandshakeError::kBadAccept:
      return "Sec-WebSocket-Accept missing or wrong";
    case HandshakeError::kUnexpectedExtension:
      return "extension not offered";
    case HandshakeError::kUnexpectedProtocol:
      return "subprotocol not offered";
  }
  return "?";
}

std::string make_client_key(const std::array<std::uint8_t, 16>& random) {
  std::string key;
  key.reserve(24);
  for (std::size_t i = 0; i < 15; i += 3) {
    const unsigned triple = (random[i] << 16) | (random[i + 1] << 8) | random[i + 2];
    key += kBase64[(triple >> 18) & 63];
    key += kBase64[(triple >> 12) & 63];
    key += kBase64[(triple >> 6) & 63];
    key += kBase64[triple & 63];
  }
  key += kBase64[random[15] >> 2];
  key += kBase64[(random[15] & 3) << 4];
  key += "==";
  return key;
}

base::Result<void> check_header_line(std::string_view header) {
  const std::size_t colon = header.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return base::Error("must look like \"Name: value\": " + std::string(header));
  }
  for (std::size_t i = 0; i < colon; ++i) {
    if (!http::is_tchar(header[i])) return base::Error("has an invalid header name: " + std::string(header));
  }
  for (char c : header) {
    if (c == '\r' || c == '\n' || c == '\0') return base::Error("must not contain CR, LF or NUL");
  }
  return {};
}

std::string make_upgrade_request(const WsUrl& url, std::string_view key, const std::vector<std::string>& extra_headers,
                                 std::string_view subprotocol) {
  std::string request;
  request.reserve(256);
  request += "GET ";
  request += url.target;
  request += " HTTP/1.1\r\nHost: ";
  request += url.host_header();
  request += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  request += key;
  request += "\r\nSec-WebSocket-Version: 13\r\n";
  if (!subprotocol.empty()) {
    request += "Sec-WebSocket-Protocol: ";
    request += subprotocol;
    request += "\r\n";
  }
  for (const std::string& header : extra_headers) {
    request += header;
    request += "\r\n";
  }
  request += "\r\n";
  return request;
}

std::size_t response_head_size(std::string_view buffer) {
  const std::size_t end = buffer.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : end + 4;
}

HandshakeError check_upgrade_response(std::string_view head, std::string_view key, std::string_view subprotocol,
                                      int* status) {
  std::size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return HandshakeError::kMalformedResponse;
  if (!parse_status_line(head.substr(0, line_end), status)) return HandshakeError::kMalformedResponse;
  if (*status != 101) return HandshakeError::kNotSwitching;

  bool upgrade = false;
  bool connection = false;
  bool accept_seen = false;
  bool accept_ok = false;
  bool extension = false;
  std::string_view protocol;
  std::size_t position = line_end + 2;
  while (position < head.size()) {
    line_end = head.find("\r\n", position);
    if (line_end == std::string_view::npos) return HandshakeError::kMalformedResponse;
    const std::string_view line = head.substr(position, line_end - position);
    position = line_end + 2;
    if (line.empty()) break;  // the blank line ending the head
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return HandshakeError::kMalformedResponse;
    const Field field{line.substr(0, colon), trim(line.substr(colon + 1))};
    for (char c : field.name) {
      if (!http::is_tchar(c)) return HandshakeError::kMalformedResponse;
    }
    if (http::iequals(field.name, "Upgrade")) {
      upgrade = upgrade || http::header_has_token(field.value, "websocket");
    } else if (http::iequals(field.name, "Connection")) {
      connection = connection || http::header_has_token(field.value, "upgrade");
    } else if (http::iequals(field.name, "Sec-WebSocket-Accept")) {
      // A second Accept line is as wrong as a bad one.
      accept_ok = !accept_seen && field.value == http::accept_key(key);
      accept_seen = true;
    } else if (http::iequals(field.name, "Sec-WebSocket-Extensions")) {
      extension = extension || !field.value.empty();
    } else if (http::iequals(field.name, "Sec-WebSocket-Protocol")) {
      protocol = field.value;
    }
  }
  if (!upgrade) return HandshakeError::kMissingUpgrade;
  if (!connection) return HandshakeError::kMissingConnection;
  if (!accept_ok) return HandshakeError::kBadAccept;
  if (extension) return HandshakeError::kUnexpectedExtension;
  if (!protocol.empty() && protocol != subprotocol) return HandshakeError::kUnexpectedProtocol;
  return HandshakeError::kNone;
}

std::optional<std::string_view> find_header(std::string_view head, std::string_view name) {
  std::size_t position = head.find("\r\n");
  while (position != std::string_view::npos && position + 2 < head.size()) {
    position += 2;
    const std::size_t line_end = head.find("\r\n", position);
    const std::string_view line = head.substr(position, line_end - position);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && http::iequals(line.substr(0, colon), name)) {
      return trim(line.substr(colon + 1));
    }
    position = line_end;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_retry_after_s(std::string_view value) {
  constexpr std::uint64_t kMaxSeconds = 24 * 3600;
  std::uint64_t seconds = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || error != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return seconds > kMaxSeconds ? kMaxSeconds : seconds;
}

}  // namespace switchboard::client
