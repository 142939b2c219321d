// Strict, incremental HTTP/1.1 request parser (RFC 9112 §2-6). The caller
// appends every byte received to one buffer and calls parse() with the whole
// buffer each time; the parser remembers how far it scanned, so any split of
// the input works and no byte is scanned twice for the end of head. A plain
// request's body is a second phase, parse_body(), that the caller enters only
// when it wants one: after a WebSocket upgrade head the bytes are frames.
//
// Strictness: the parser accepts exactly the RFC 9112 grammar and none of the
// leniencies it permits. No leading empty lines (§2.2 allows skipping them),
// no bare LF line endings (§2.2), no obs-fold (§5.2), one SP between the
// request-line parts (§3), no whitespace between field-name and colon (§5.1),
// at most one Host field line (§3.2). Anything else is an error, so what a
// proxy in front of us and we see as "the head" cannot disagree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace switchboard::http {

struct Header {
  std::string_view name;   // as sent; compare case-insensitively
  std::string_view value;  // leading/trailing whitespace (OWS) removed
};

// Views into the caller's buffer: valid while that buffer is unchanged.
struct Request {
  std::string_view method;
  std::string_view target;  // request-target as sent, e.g. "/ws?token=abc"
  int minor_version = 1;    // HTTP/1.<minor>
  std::vector<Header> headers;
  std::uint64_t content_length = 0;  // the Content-Length value; 0 when absent
  std::string_view body;             // set by parse_body() once complete

  // First header with this name (ASCII case-insensitive); empty if absent.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // target without the query string, e.g. "/ws".
  std::string_view path() const;
};

struct Limits {
  std::size_t max_head_size = 8 * 1024;  // request line + headers + final CRLF
  std::size_t max_headers = 100;
  std::uint64_t max_body_size = 64 * 1024;  // Content-Length above it: kBodyTooLarge
};

// One enumerator per way a head can be malformed; status_for() maps each to
// the HTTP status we answer with.
enum class ParseError : std::uint8_t {
  kNone,
  kHeadTooLarge,                 // 431
  kTooManyHeaders,               // 431
  kBadRequestLine,               // 400: method/target/version syntax
  kBadHeader,                    // 400: bad name, missing colon, whitespace before colon, obs-fold, control chars
  kUnsupportedVersion,           // 505: not HTTP/1.x
  kBadContentLength,             // 400: Content-Length not a decimal number (RFC 9112 §6.3)
  kBareLineFeed,                 // 400: LF without CR
  kConflictingContentLength,     // 400: two Content-Length lines with different values
  kBodyTooLarge,                 // 413: parse_body(): Content-Length above max_body_size
  kTransferEncodingUnsupported,  // 501: parse_body(): any Transfer-Encoding (chunked is not read)
};

// kNone maps to 200: nothing to complain about.
int status_for(ParseError error);
const char* describe(ParseError error);

enum class ParseStatus : std::uint8_t { kIncomplete, kComplete, kFailed };

class RequestParser {
 public:
  explicit RequestParser(Limits limits = {});

  // On kComplete, `out` holds the request and head_size() tells how many
  // bytes of `buffer` the head took (bytes after it belong to the next
  // protocol, e.g. WebSocket frames sent right after the upgrade request).
  // On kFailed, error() tells why.
  //
  // Contract: every call passes the same byte stream, only longer (a prefix
  // seen once never changes); the buffer may move between calls, since the
  // parser keeps offsets, not pointers. `out` is written only on kComplete.
  // Once complete or failed, further calls return the same result until
  // reset(). The head-size limit applies as soon as the buffer holds more
  // than max_head_size bytes without a complete head.
  ParseStatus parse(std::string_view buffer, Request& out);

  // The body phase (RFC 9112 §6.3), once parse() returned kComplete; the
  // same buffer contract. Fails at once, from the head alone and before any
  // body byte arrives, on a Transfer-Encoding (kTransferEncodingUnsupported:
  // chunked bodies are not read) or a Content-Length above max_body_size
  // (kBodyTooLarge). Otherwise kIncomplete until buffer holds the head and
  // Content-Length more bytes; then kComplete, with out.body the
  // Content-Length bytes after the head. Every call refills `out` with views
  // into this buffer (it may have moved since the head). Bytes after the
  // body are not looked at. Sticky like parse().
  ParseStatus parse_body(std::string_view buffer, Request& out);

  std::size_t head_size() const;
  // Head and body: how many bytes of the buffer the request takes once
  // parse_body() is complete.
  std::size_t message_size() const;
  ParseError error() const;
  void reset();

 private:
  // Offsets into the caller's buffer, which may be reallocated between calls.
  struct Range {
    std::size_t begin = 0;
    std::size_t size = 0;
  };
  struct HeaderRange {
    Range name;
    Range value;
  };

  ParseStatus fail(ParseError error);
  ParseStatus fail_body(ParseError error);
  ParseError parse_request_line(std::string_view line, std::size_t offset);
  ParseError parse_header_line(std::string_view line, std::size_t offset);
  void fill(std::string_view buffer, Request& out) const;

  Limits limits_;
  ParseStatus status_ = ParseStatus::kIncomplete;
  ParseStatus body_status_ = ParseStatus::kIncomplete;
  ParseError error_ = ParseError::kNone;
  std::size_t scan_pos_ = 0;    // next byte to look at for a line feed
  std::size_t line_start_ = 0;  // first byte of the line being received
  std::size_t head_size_ = 0;
  bool have_request_line_ = false;
  bool have_host_ = false;
  bool have_content_length_ = false;
  bool have_transfer_encoding_ = false;
  std::uint64_t content_length_ = 0;
  Range method_;
  Range target_;
  int minor_version_ = 1;
  std::vector<HeaderRange> headers_;
};

// ASCII case-insensitive equality, as field names compare (RFC 9110 §5.1).
bool iequals(std::string_view a, std::string_view b);

// tchar of RFC 9110 §5.6.2: the characters a token (method, field-name) is made of.
bool is_tchar(char c);

}  // namespace switchboard::http
