// `switchboard token`: mints a development token (HS256 by default) signed
// with the server's auth.hmac_secret, so that a client can be tried out
// without an identity provider.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace switchboard::cli {

// "3600", "90s", "30m", "12h", "7d" -> seconds; nullopt when malformed.
std::optional<std::uint64_t> parse_duration_s(std::string_view text);

struct TokenRequest {
  std::string user;
  std::uint64_t ttl_s = 3600;         // 0: no exp
  std::vector<std::string> channels;  // the `channels` claim; empty: none
  bool has_channels = false;
  std::string channel;    // a subscription token for this private channel
  std::string info_json;  // the `info` claim, already JSON
  std::string issuer;
  std::string audience;
};

// The claims as a JSON object, iat = now.
std::string token_payload(const TokenRequest& request, std::int64_t now);

// Adds the `token` subcommand to app; it runs when parsed.
void add_token_command(CLI::App& app);

}  // namespace switchboard::cli
