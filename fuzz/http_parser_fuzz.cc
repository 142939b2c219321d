// libFuzzer target for the HTTP layer: the request parser fed in chunks (the
// head, then, for a plain request, the body by Content-Length), then the
// upgrade checks and the accept key on whatever parsed.
//
// Input layout: byte 0 picks the chunk size (0: the whole input at once),
// byte 1 varies it per chunk and picks the limits (default, or tiny ones so
// the 431 and 413 paths are reached); the rest is the bytes a client would
// send. Seeds in fuzz/corpus/http_parser/ follow this layout.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_parser.h"
#include "http/response.h"
#include "http/upgrade.h"

namespace {

using switchboard::http::Header;
using switchboard::http::Limits;
using switchboard::http::ParseStatus;
using switchboard::http::Request;
using switchboard::http::RequestParser;

void check(bool condition) {
  if (!condition) std::abort();
}

// A view lies inside the head: [begin, begin + head_size).
void check_inside(std::string_view view, std::string_view head) {
  if (view.empty()) return;
  check(view.data() >= head.data() && view.data() + view.size() <= head.data() + head.size());
}

struct Outcome {
  ParseStatus status;
  ParseStatus body_status;
  switchboard::http::ParseError error;
  std::size_t head_size;
  std::size_t message_size;
};

// The server reads a body only for a plain request; bytes after an upgrade
// head are frames.
bool wants_body(const Request& request) { return !switchboard::http::wants_websocket(request); }

// Whole input in one call per phase: the reference the chunked run must
// agree with.
Outcome parse_whole(std::string_view input, Limits limits) {
  RequestParser parser(limits);
  Request request;
  const ParseStatus status = parser.parse(input, request);
  ParseStatus body_status = ParseStatus::kIncomplete;
  if (status == ParseStatus::kComplete && wants_body(request)) body_status = parser.parse_body(input, request);
  return {status, body_status, parser.error(), parser.head_size(), parser.message_size()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t base_chunk = data[0];
  const std::uint8_t variation = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  const bool tiny_limits = (variation & 0x80) != 0;
  const Limits limits =
      tiny_limits ? Limits{static_cast<std::size_t>(64 + (variation & 0x3f)),
                           static_cast<std::size_t>(variation & 0x07), static_cast<std::uint64_t>(variation & 0x38)}
                  : Limits{};

  // Feed the growing prefix through a buffer that moves as it grows, the
  // way the server accumulates socket reads.
  RequestParser parser(limits);
  Request request;
  std::string buffer;
  ParseStatus status = ParseStatus::kIncomplete;
  ParseStatus body_status = ParseStatus::kIncomplete;
  bool body_phase = false;
  std::size_t offset = 0;
  std::size_t round = 0;
  do {
    std::size_t chunk = base_chunk == 0 ? input.size() : base_chunk + ((variation * round) % 7);
    if (chunk > input.size() - offset) chunk = input.size() - offset;
    buffer.append(input.substr(offset, chunk));
    offset += chunk;
    ++round;
    // Move the bytes between calls now and then (every time would make
    // byte-by-byte runs over 8 KiB quadratic); never after the last call.
    if (round % 16 == 1) buffer.shrink_to_fit();
    if (!body_phase) {
      status = parser.parse(buffer, request);
      body_phase = status == ParseStatus::kComplete && wants_body(request);
      if (status != ParseStatus::kIncomplete && !body_phase) break;
    }
    // In the same round as the head too: the body may come with it.
    if (body_phase) body_status = parser.parse_body(buffer, request);
  } while ((status == ParseStatus::kIncomplete || (body_phase && body_status == ParseStatus::kIncomplete)) &&
           offset < input.size());

  // Any split parses like the whole input.
  const Outcome whole = parse_whole(input, limits);
  check(status == whole.status);
  check(body_status == whole.body_status);
  check(parser.error() == whole.error);
  check(parser.head_size() == whole.head_size);
  check(parser.message_size() == whole.message_size);
  check(parser.head_size() <= input.size());
  check(parser.head_size() <= limits.max_head_size);
  if (status == ParseStatus::kFailed || body_status == ParseStatus::kFailed) {
    check(parser.error() != switchboard::http::ParseError::kNone);
    const int code = switchboard::http::status_for(parser.error());
    if (status == ParseStatus::kFailed) {
      check(code == 400 || code == 431 || code == 505);
    } else {
      // Refused from the head alone: a Transfer-Encoding, or too long a body.
      check(code == 413 || code == 501);
      check(code != 413 || request.content_length > limits.max_body_size);
    }
    check(switchboard::http::describe(parser.error())[0] != '\0');
    return 0;
  }
  if (status != ParseStatus::kComplete) return 0;
  if (body_status == ParseStatus::kComplete) {
    // The body is exactly Content-Length bytes right after the head, within the limit.
    check(request.content_length <= limits.max_body_size);
    check(request.body.size() == request.content_length);
    check(parser.message_size() == parser.head_size() + request.body.size());
    check(parser.message_size() <= buffer.size());
    check(request.body.empty() || request.body.data() == buffer.data() + parser.head_size());
    check(!request.has_header("Transfer-Encoding"));
  } else {
    check(request.body.empty());
    check(parser.message_size() == 0);
  }

  const std::string_view head(buffer.data(), parser.head_size());
  check(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n");
  check(request.headers.size() <= limits.max_headers);
  check(!request.method.empty() && !request.target.empty());
  check_inside(request.method, head);
  check_inside(request.target, head);
  check_inside(request.path(), head);
  std::size_t touched = 0;
  for (const Header& h : request.headers) {
    check(!h.name.empty());
    check_inside(h.name, head);
    check_inside(h.value, head);
    for (char c : h.name) touched += static_cast<unsigned char>(c);
    for (char c : h.value) touched += static_cast<unsigned char>(c);
    check(request.has_header(h.name));
    check_inside(request.header(h.name), head);
  }

  const bool websocket = switchboard::http::wants_websocket(request);
  std::string_view key;
  const switchboard::http::UpgradeError error = switchboard::http::validate_upgrade(request, &key);
  if (error == switchboard::http::UpgradeError::kNone) {
    check(websocket);
    check(key.size() == 24);
    check_inside(key, head);
    const std::string accept = switchboard::http::accept_key(key);
    check(accept.size() == 28);
    const std::string response = switchboard::http::switching_protocols(accept, "");
    check(response.size() > accept.size());
  } else {
    check(switchboard::http::status_for(error) >= 400);
  }
  // Keeps the loop over the header bytes from being optimised away.
  check(touched != static_cast<std::size_t>(-1));
  return 0;
}
