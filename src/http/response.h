// HTTP/1.1 response heads (RFC 9112 §4) and whole small responses. The
// caller passes trusted text: header names and values must not hold CR/LF
// (check text from elsewhere with is_safe_field first).
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace switchboard::http {

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection,
// Sec-WebSocket-Accept and, when not empty, Sec-WebSocket-Protocol.
std::string switching_protocols(std::string_view accept, std::string_view subprotocol);

// A whole response with Content-Length, Content-Type and `Connection: close`
// (plain HTTP connections are closed after one answer for now); extra
// headers are written as given, e.g. {{"Allow", "GET"}}. An empty
// content_type leaves Content-Type out; 1xx, 204 and 304 get neither
// Content-Length nor a body (RFC 9110 §8.6, §15.3.5, §15.4.5).
std::string make_response(int status, std::string_view content_type, std::string_view body,
                          std::span<const Header> extra_headers);
inline std::string make_response(int status, std::string_view content_type, std::string_view body,
                                 std::initializer_list<Header> extra_headers = {}) {
  return make_response(status, content_type, body,
                       std::span<const Header>(extra_headers.begin(), extra_headers.size()));
}

// "HTTP/1.1 100 Continue" and the empty line: the interim answer to a
// request with `Expect: 100-continue` whose body we are going to read
// (RFC 9110 §10.1.1).
std::string_view continue_response();

// Can this field line be written as is? The name is a token and the value
// holds no control character but HTAB (RFC 9110 §5.1, §5.5): above all no
// CR or LF, which would let the text end the line and add headers of its
// own, or end the head (response splitting).
bool is_safe_field(std::string_view name, std::string_view value);

// The reason phrase of a status we send ("Not Found", ...); "" for others
// (RFC 9112 §4 allows an empty reason-phrase).
const char* reason_phrase(int status);

}  // namespace switchboard::http
