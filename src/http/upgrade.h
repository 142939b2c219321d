// The RFC 6455 §4.2.1 opening-handshake checks and the §4.2.2 accept key.
// Pure functions over a parsed Request: no I/O; only accept_key() allocates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace switchboard::http {

// True when the client asks for a WebSocket (an Upgrade header naming the
// `websocket` token): such a request goes through validate_upgrade(); any
// other request is plain HTTP and goes to the routes.
bool wants_websocket(const Request& request);

enum class UpgradeError : std::uint8_t {
  kNone,
  kMethodNotGet,        // 405 (Allow: GET)
  kVersionNotHttp11,    // 400: HTTP/1.0 cannot upgrade
  kMissingHost,         // 400
  kMissingUpgrade,      // 400: Upgrade header lacks the `websocket` token
  kMissingConnection,   // 400: Connection lacks the `Upgrade` token
  kUnsupportedVersion,  // 426, with `Sec-WebSocket-Version: 13`
  kBadKey,              // 400: Sec-WebSocket-Key missing or not 16 bytes of base64
  kUnexpectedBody,      // 400: a body (Content-Length > 0 or Transfer-Encoding) on the upgrade GET
};

// kNone maps to 101: the handshake goes on.
int status_for(UpgradeError error);
const char* describe(UpgradeError error);

// Runs every §4.2.1 check; on success, *key is the Sec-WebSocket-Key value.
UpgradeError validate_upgrade(const Request& request, std::string_view* key);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), RFC 6455 §4.2.2.
std::string accept_key(std::string_view key);

// Loads OpenSSL's SHA-1 now. The first hash of a process initialises the
// provider: about 1.3 ms and 1.7 MB of libcrypto code paged in, which a
// server should pay at start rather than on its first client's handshake.
void prepare_accept_key();

// Does a comma-separated header value contain `token` (ASCII
// case-insensitive, whitespace around elements ignored)? e.g.
// header_has_token("keep-alive, Upgrade", "upgrade") is true.
bool header_has_token(std::string_view value, std::string_view token);

// Is `key` the base64 of exactly 16 bytes (RFC 6455 §4.1 item 7)? Strict
// RFC 4648 §4: 22 alphabet characters and "==", the unused bits zero.
bool is_valid_key(std::string_view key);

}  // namespace switchboard::http
