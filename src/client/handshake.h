// The client side of the RFC 6455 §4.1 opening handshake, pure (no I/O):
// the upgrade request we send and the checks on the server's response.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "client/url.h"

namespace switchboard::client {

// One enumerator per way a server's answer can fail the handshake (§4.1,
// "the client MUST _Fail the WebSocket Connection_" items 1-6).
enum class HandshakeError : std::uint8_t {
  kNone,
  kMalformedResponse,    // not an HTTP/1.1 status line and header fields
  kHeadTooLarge,         // no end of head within kMaxResponseHead bytes
  kNotSwitching,         // status other than 101 (item 1)
  kMissingUpgrade,       // Upgrade lacks `websocket` (item 2)
  kMissingConnection,    // Connection lacks `Upgrade` (item 3)
  kBadAccept,            // Sec-WebSocket-Accept missing or wrong (item 4)
  kUnexpectedExtension,  // an extension we did not offer (item 5)
  kUnexpectedProtocol,   // a subprotocol we did not offer (item 6)
};

const char* describe(HandshakeError error);

inline constexpr std::size_t kMaxResponseHead = 16 * 1024;

// base64 of 16 random bytes: a Sec-WebSocket-Key (§4.1 item 7).
std::string make_client_key(const std::array<std::uint8_t, 16>& random);

// Success when header is a "Name: value" line we may write into a request
// head verbatim (a token name, no CR, LF or NUL anywhere), else why not.
base::Result<void> check_header_line(std::string_view header);

// The GET upgrade request head for url with `key`; extra_headers are
// "Name: value" lines written as given (validated by validate_options()).
std::string make_upgrade_request(const WsUrl& url, std::string_view key, const std::vector<std::string>& extra_headers,
                                 std::string_view subprotocol);

// Bytes of the response head including its final CRLF CRLF, or 0 when the
// buffer does not hold the whole head yet.
std::size_t response_head_size(std::string_view buffer);

// Checks a whole response head (as bounded by response_head_size()).
// *status gets the status code when the status line parses.
HandshakeError check_upgrade_response(std::string_view head, std::string_view key, std::string_view subprotocol,
                                      int* status);

// The value of the first header field called `name` (case-insensitive) in a
// response head, trimmed; nullopt when absent.
std::optional<std::string_view> find_header(std::string_view head, std::string_view name);

// Retry-After as delta-seconds (RFC 9110 §10.2.3), at most a day; nullopt
// for an HTTP-date or anything malformed (the caller's backoff applies).
std::optional<std::uint64_t> parse_retry_after_s(std::string_view value);

}  // namespace switchboard::client
