#include "http/request_parser.h"

#include <cassert>
#include <cstring>

#include "base/ascii.h"

namespace switchboard::http {
namespace {

constexpr char kCr = '\r';
constexpr char kLf = '\n';

// OWS of RFC 9110 §5.6.3.
bool is_ows(char c) { return c == ' ' || c == '\t'; }

// field-vchar / SP / HTAB (RFC 9110 §5.5): everything but the controls.
// obs-text (0x80-0xFF) is part of the grammar, so it is accepted as opaque.
bool is_field_value_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == '\t' || (byte >= 0x20 && byte != 0x7f);
}

// request-target (RFC 9112 §3.2) forms are all built from visible ASCII: no
// whitespace, no controls, no raw non-ASCII bytes.
bool is_target_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte > 0x20 && byte < 0x7f;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) { return base::ascii_iequals(a, b); }

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return c != '\0' && kSymbols.find(c) != std::string_view::npos;
}

std::string_view Request::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

bool Request::has_header(std::string_view name) const {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return true;
  }
  return false;
}

std::string_view Request::path() const { return target.substr(0, target.find('?')); }

int status_for(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return 200;
    case ParseError::kHeadTooLarge:
    case ParseError::kTooManyHeaders:
      return 431;  // RFC 6585 §5
    case ParseError::kUnsupportedVersion:
      return 505;  // RFC 9110 §15.6.6
    case ParseError::kBodyTooLarge:
      return 413;  // RFC 9110 §15.5.14
    case ParseError::kTransferEncodingUnsupported:
      return 501;  // RFC 9112 §6.1: a transfer coding the server does not understand
    case ParseError::kBadRequestLine:
    case ParseError::kBadHeader:
    case ParseError::kBadContentLength:
    case ParseError::kConflictingContentLength:
    case ParseError::kBareLineFeed:
      return 400;
  }
  return 400;
}

const char* describe(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return "no error";
    case ParseError::kHeadTooLarge:
      return "request head too large";
    case ParseError::kTooManyHeaders:
      return "too many header fields";
    case ParseError::kBadRequestLine:
      return "malformed request line";
    case ParseError::kBadHeader:
      return "malformed header field";
    case ParseError::kUnsupportedVersion:
      return "HTTP version not supported";
    case ParseError::kBadContentLength:
      return "malformed Content-Length";
    case ParseError::kBareLineFeed:
      return "line not terminated by CRLF";
    case ParseError::kConflictingContentLength:
      return "conflicting Content-Length values";
    case ParseError::kBodyTooLarge:
      return "request body too large";
    case ParseError::kTransferEncodingUnsupported:
      return "Transfer-Encoding is not supported (no chunked request bodies): send Content-Length";
  }
  return "unknown error";
}

RequestParser::RequestParser(Limits limits) : limits_(limits) {}

std::size_t RequestParser::head_size() const { return head_size_; }

std::size_t RequestParser::message_size() const {
  return body_status_ == ParseStatus::kComplete ? head_size_ + static_cast<std::size_t>(content_length_) : 0;
}

ParseError RequestParser::error() const { return error_; }

void RequestParser::reset() {
  status_ = ParseStatus::kIncomplete;
  body_status_ = ParseStatus::kIncomplete;
  error_ = ParseError::kNone;
  scan_pos_ = 0;
  line_start_ = 0;
  head_size_ = 0;
  have_request_line_ = false;
  have_host_ = false;
  have_content_length_ = false;
  have_transfer_encoding_ = false;
  content_length_ = 0;
  method_ = {};
  target_ = {};
  minor_version_ = 1;
  headers_.clear();  // keeps the capacity for the next request
}

ParseStatus RequestParser::fail(ParseError error) {
  status_ = ParseStatus::kFailed;
  error_ = error;
  return status_;
}

ParseStatus RequestParser::fail_body(ParseError error) {
  body_status_ = ParseStatus::kFailed;
  error_ = error;
  return body_status_;
}

ParseStatus RequestParser::parse_body(std::string_view buffer, Request& out) {
  assert(status_ == ParseStatus::kComplete && "parse_body() follows a complete head");
  if (status_ != ParseStatus::kComplete) return status_;
  // Refilled on every call: the buffer may have moved since the head.
  fill(buffer, out);
  if (body_status_ == ParseStatus::kFailed) return body_status_;
  if (body_status_ == ParseStatus::kIncomplete) {
    // RFC 9112 §6.1: a server that does not understand a transfer coding
    // answers 501. We read none (not even chunked), and a Transfer-Encoding
    // next to a Content-Length is a smuggling attempt (§6.3 item 3): both
    // are refused before a body byte is read.
    if (have_transfer_encoding_) return fail_body(ParseError::kTransferEncodingUnsupported);
    if (content_length_ > limits_.max_body_size) return fail_body(ParseError::kBodyTooLarge);
    // §6.3 item 6: a request's content is exactly Content-Length bytes
    // (none without the field); anything after is not ours to read.
    if (buffer.size() - head_size_ < content_length_) return ParseStatus::kIncomplete;
    body_status_ = ParseStatus::kComplete;
  }
  out.body = buffer.substr(head_size_, static_cast<std::size_t>(content_length_));
  return body_status_;
}

ParseStatus RequestParser::parse(std::string_view buffer, Request& out) {
  if (status_ == ParseStatus::kComplete) {
    fill(buffer, out);
    return status_;
  }
  if (status_ == ParseStatus::kFailed) return status_;
  assert(buffer.size() >= scan_pos_ && "parse() must see the same stream, only longer");

  // Only the first max_head_size bytes can hold an acceptable head; anything
  // the peer sent past them is never scanned.
  const std::size_t window = buffer.size() < limits_.max_head_size ? buffer.size() : limits_.max_head_size;
  while (scan_pos_ < window) {
    const void* found = std::memchr(buffer.data() + scan_pos_, kLf, window - scan_pos_);
    if (found == nullptr) {
      scan_pos_ = window;
      break;
    }
    const auto lf = static_cast<std::size_t>(static_cast<const char*>(found) - buffer.data());
    scan_pos_ = lf + 1;
    // RFC 9112 §2.2 lets a recipient accept a bare LF as a line terminator;
    // we do not, so no two parsers can split this head differently.
    if (lf == line_start_ || buffer[lf - 1] != kCr) return fail(ParseError::kBareLineFeed);
    const std::size_t line_offset = line_start_;
    const std::string_view line = buffer.substr(line_offset, lf - 1 - line_offset);
    line_start_ = scan_pos_;

    ParseError error = ParseError::kNone;
    if (!have_request_line_) {
      // RFC 9112 §2.2 allows ignoring empty lines before the request-line;
      // we reject them: a client never sends them.
      if (line.empty()) return fail(ParseError::kBadRequestLine);
      error = parse_request_line(line, line_offset);
      have_request_line_ = true;
    } else if (line.empty()) {
      // The empty line ends the head (RFC 9112 §2.1).
      head_size_ = scan_pos_;
      status_ = ParseStatus::kComplete;
      fill(buffer, out);
      return status_;
    } else {
      error = parse_header_line(line, line_offset);
    }
    if (error != ParseError::kNone) return fail(error);
  }
  // No complete head within the limit: fail as soon as the peer has sent
  // more than the limit, not when (if ever) the head ends.
  if (buffer.size() > limits_.max_head_size) return fail(ParseError::kHeadTooLarge);
  return ParseStatus::kIncomplete;
}

// RFC 9112 §3: request-line = method SP request-target SP HTTP-version
ParseError RequestParser::parse_request_line(std::string_view line, std::size_t offset) {
  const std::size_t first_sp = line.find(' ');
  if (first_sp == std::string_view::npos) return ParseError::kBadRequestLine;
  const std::string_view method = line.substr(0, first_sp);
  // method = token (RFC 9110 §9.1); an empty one means a leading SP.
  if (!is_token(method)) return ParseError::kBadRequestLine;

  const std::size_t target_begin = first_sp + 1;
  const std::size_t second_sp = line.find(' ', target_begin);
  if (second_sp == std::string_view::npos) return ParseError::kBadRequestLine;
  const std::string_view target = line.substr(target_begin, second_sp - target_begin);
  // Empty here means two SPs in a row: exactly one SP separates the parts.
  if (target.empty()) return ParseError::kBadRequestLine;
  for (char c : target) {
    if (!is_target_char(c)) return ParseError::kBadRequestLine;
  }

  // HTTP-version = "HTTP" "/" DIGIT "." DIGIT (RFC 9112 §2.3), nothing after.
  const std::string_view version = line.substr(second_sp + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) || version[6] != '.' ||
      !is_digit(version[7])) {
    return ParseError::kBadRequestLine;
  }
  if (version[5] != '1') return ParseError::kUnsupportedVersion;

  method_ = {offset, method.size()};
  target_ = {offset + target_begin, target.size()};
  minor_version_ = version[7] - '0';
  return ParseError::kNone;
}

// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
ParseError RequestParser::parse_header_line(std::string_view line, std::size_t offset) {
  // A line starting with whitespace is obs-fold (§5.2), or whitespace between
  // the start-line and the first field (§2.2): both rejected.
  if (is_ows(line.front())) return ParseError::kBadHeader;
  if (headers_.size() >= limits_.max_headers) return ParseError::kTooManyHeaders;

  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return ParseError::kBadHeader;
  const std::string_view name = line.substr(0, colon);
  // §5.1: no whitespace between field-name and colon; a token otherwise.
  if (!is_token(name)) return ParseError::kBadHeader;

  std::size_t value_begin = colon + 1;
  std::size_t value_end = line.size();
  while (value_begin < value_end && is_ows(line[value_begin])) ++value_begin;
  while (value_end > value_begin && is_ows(line[value_end - 1])) --value_end;
  for (std::size_t i = value_begin; i < value_end; ++i) {
    if (!is_field_value_char(line[i])) return ParseError::kBadHeader;
  }

  // RFC 9112 §6.3 item 5: a Content-Length that is not a plain decimal
  // number is unrecoverable framing: 400. A list ("5, 5") is refused too;
  // repeated field lines must agree (RFC 9110 §8.6), or the framing is
  // ambiguous and a proxy in front of us may have used the other value.
  if (iequals(name, "content-length")) {
    const std::string_view value = line.substr(value_begin, value_end - value_begin);
    if (value.empty() || value.size() > 18) return ParseError::kBadContentLength;
    std::uint64_t length = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return ParseError::kBadContentLength;
      length = length * 10 + static_cast<std::uint64_t>(c - '0');  // 18 digits cannot overflow
    }
    if (have_content_length_ && length != content_length_) return ParseError::kConflictingContentLength;
    have_content_length_ = true;
    content_length_ = length;
  }
  if (iequals(name, "transfer-encoding")) have_transfer_encoding_ = true;
  // §3.2: a request with more than one Host field line MUST get a 400.
  if (iequals(name, "host")) {
    if (have_host_) return ParseError::kBadHeader;
    have_host_ = true;
  }
  // One allocation for a typical request (browsers send 10-16 fields), not
  // a doubling series.
  if (headers_.empty()) headers_.reserve(16);
  headers_.push_back({{offset, name.size()}, {offset + value_begin, value_end - value_begin}});
  return ParseError::kNone;
}

void RequestParser::fill(std::string_view buffer, Request& out) const {
  out.method = buffer.substr(method_.begin, method_.size);
  out.target = buffer.substr(target_.begin, target_.size);
  out.minor_version = minor_version_;
  out.content_length = content_length_;
  out.body = {};
  out.headers.clear();
  out.headers.reserve(headers_.size());
  for (const HeaderRange& h : headers_) {
    out.headers.push_back({buffer.substr(h.name.begin, h.name.size), buffer.substr(h.value.begin, h.value.size)});
  }
}

}  // namespace switchboard::http
