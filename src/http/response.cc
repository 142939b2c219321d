#include "http/response.h"

#include <charconv>

namespace switchboard::http {
namespace {

struct ReasonPhrase {
  int status;
  const char* phrase;
};

// The phrases of RFC 9110 §15 (RFC 6585 for 428, 429, 431).
constexpr ReasonPhrase kReasonPhrases[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {411, "Length Required"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

// RFC 9110 §6.4.1 / §8.6: these statuses never carry content.
bool has_no_content(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

void append_status_line(std::string& out, int status) {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
  out += "HTTP/1.1 ";
  char digits[12];
  const auto result = std::to_chars(digits, digits + sizeof(digits), status);
  out.append(digits, result.ptr);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out += ": ";
  out.append(value);
  out += "\r\n";
}

}  // namespace

const char* reason_phrase(int status) {
  for (const auto& [code, phrase] : kReasonPhrases) {
    if (code == status) return phrase;
  }
  return "";
}

// RFC 6455 §4.2.2 item 5: the server's handshake.
std::string switching_protocols(std::string_view accept, std::string_view subprotocol) {
  std::string out;
  out.reserve(160 + subprotocol.size());
  append_status_line(out, 101);
  append_header(out, "Upgrade", "websocket");
  append_header(out, "Connection", "Upgrade");
  append_header(out, "Sec-WebSocket-Accept", accept);
  if (!subprotocol.empty()) append_header(out, "Sec-WebSocket-Protocol", subprotocol);
  out += "\r\n";
  return out;
}

std::string make_response(int status, std::string_view content_type, std::string_view body,
                          std::span<const Header> extra_headers) {
  const bool no_content = has_no_content(status);
  std::string out;
  std::size_t extra_size = 0;
  for (const Header& h : extra_headers) extra_size += h.name.size() + h.value.size() + 4;
  out.reserve(128 + content_type.size() + extra_size + body.size());
  append_status_line(out, status);
  if (!content_type.empty()) append_header(out, "Content-Type", content_type);
  if (!no_content) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof(digits), body.size());
    append_header(out, "Content-Length", std::string_view(digits, static_cast<std::size_t>(result.ptr - digits)));
  }
  append_header(out, "Connection", "close");
  for (const Header& h : extra_headers) append_header(out, h.name, h.value);
  out += "\r\n";
  if (!no_content) out.append(body);
  return out;
}

std::string_view continue_response() { return "HTTP/1.1 100 Continue\r\n\r\n"; }

bool is_safe_field(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!is_tchar(c)) return false;
  }
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte != '\t' && (byte < 0x20 || byte == 0x7f)) return false;
  }
  return true;
}

}  // namespace switchboard::http
