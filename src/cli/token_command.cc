#include "cli/token_command.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "auth/jwt_sign.h"
#include "auth/key_check.h"
#include "base/clock.h"
#include "base/json_string.h"
#include "protocol/command.h"
#include "protocol/encode.h"
#include "protocol/names.h"

namespace switchboard::cli {
namespace {

struct TokenFlags {
  TokenRequest request;
  std::string secret;
  std::string algorithm = "HS256";
  std::string kid;
  std::string channels;
  std::string ttl = "1h";
};

int run_token(TokenFlags& flags) {
  if (flags.secret.empty()) {
    if (const char* from_environment = std::getenv("SWITCHBOARD_AUTH_HMAC_SECRET")) flags.secret = from_environment;
  }
  if (flags.secret.empty()) {
    std::fprintf(stderr, "switchboard token: give --secret or set SWITCHBOARD_AUTH_HMAC_SECRET\n");
    return 2;
  }
  TokenRequest& request = flags.request;
  if (!request.user.empty() && !protocol::is_valid_user(request.user)) {
    std::fprintf(stderr, "switchboard token: --user: not a valid user id\n");
    return 2;
  }
  const std::optional<std::uint64_t> ttl = parse_duration_s(flags.ttl);
  if (!ttl) {
    std::fprintf(stderr, "switchboard token: --ttl: '%s' is not a duration (3600, 90s, 30m, 12h, 7d; 0: none)\n",
                 flags.ttl.c_str());
    return 2;
  }
  request.ttl_s = *ttl;
  if (request.ttl_s == 0) {
    std::fprintf(stderr,
                 "switchboard token: --ttl 0: no exp, so a server with auth.require_exp (the default) "
                 "refuses this token\n");
  }
  if (!flags.channels.empty()) {
    request.has_channels = true;
    std::string_view rest = flags.channels;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view pattern = rest.substr(0, comma);
      if (!pattern.empty()) request.channels.emplace_back(pattern);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  if (!request.channel.empty() && !protocol::is_private_channel(request.channel)) {
    std::fprintf(stderr, "switchboard token: --channel: subscription tokens are for private channels ($name)\n");
    return 2;
  }
  if (!request.channel.empty() && request.has_channels) {
    // Two kinds of token: --channel makes a subscription token, which is
    // never a connection token, so connection rights have no place in it.
    std::fprintf(stderr,
                 "switchboard token: --channel makes a subscription token, --channels a connection token: "
                 "give one of them\n");
    return 2;
  }
  if (!request.info_json.empty() && !protocol::is_json(request.info_json)) {
    std::fprintf(stderr, "switchboard token: --info: not valid JSON\n");
    return 2;
  }
  const std::optional<auth::Algorithm> algorithm = auth::algorithm_from_name(flags.algorithm);
  if (!algorithm || flags.algorithm.rfind("HS", 0) != 0) {
    std::fprintf(stderr, "switchboard token: --algorithm: HS256, HS384 or HS512\n");
    return 2;
  }
  // The check the server makes (auth.hmac_secret): a token signed with a
  // secret it would refuse is of no use.
  if (const base::Result<void> checked = auth::check_hmac_secret(*algorithm, flags.secret); !checked) {
    std::fprintf(stderr, "switchboard token: auth.hmac_secret: %s (the server refuses a shorter one)\n",
                 checked.error().c_str());
    return 2;
  }
  const std::string payload = token_payload(request, base::wall_clock_s());
  std::printf("%s\n", auth::sign_hmac(*algorithm, flags.secret, flags.kid, payload).c_str());
  return 0;
}

}  // namespace

std::optional<std::uint64_t> parse_duration_s(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t unit = 1;
  switch (text.back()) {
    case 's':
      text.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      text.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      text.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  std::uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  if (value > (std::uint64_t{1} << 40) / unit) return std::nullopt;
  return value * unit;
}

std::string token_payload(const TokenRequest& request, std::int64_t now) {
  std::string out = "{\"sub\":";
  base::append_json_string(out, request.user);
  out += ",\"iat\":" + std::to_string(now);
  if (request.ttl_s != 0) out += ",\"exp\":" + std::to_string(now + static_cast<std::int64_t>(request.ttl_s));
  if (request.has_channels) {
    out += ",\"channels\":[";
    for (std::size_t i = 0; i < request.channels.size(); ++i) {
      if (i > 0) out += ',';
      base::append_json_string(out, request.channels[i]);
    }
    out += ']';
  }
  if (!request.channel.empty()) {
    out += ",\"channel\":";
    base::append_json_string(out, request.channel);
  }
  if (!request.info_json.empty()) out += ",\"info\":" + request.info_json;
  if (!request.issuer.empty()) {
    out += ",\"iss\":";
    base::append_json_string(out, request.issuer);
  }
  if (!request.audience.empty()) {
    out += ",\"aud\":";
    base::append_json_string(out, request.audience);
  }
  out += '}';
  return out;
}

void add_token_command(CLI::App& app) {
  auto flags = std::make_shared<TokenFlags>();
  CLI::App* token = app.add_subcommand(
      "token",
      "Print a development token for --user, signed with the server's HMAC secret (auth.hmac_secret): a "
      "connection token, or with --channel a subscription token");
  token->add_option("--user", flags->request.user, "The user id (sub claim); empty: an anonymous token");
  token->add_option("--secret", flags->secret,
                    "The HMAC secret (default: $SWITCHBOARD_AUTH_HMAC_SECRET, which keeps it out of the process list)");
  token->add_option("--ttl", flags->ttl,
                    "Lifetime: 3600, 90s, 30m, 12h, 7d; 0: no exp (refused unless the server sets "
                    "auth.require_exp = false) [default 1h]");
  token->add_option("--channels", flags->channels,
                    "Comma-separated channel patterns the token grants ('chat:*,news'); absent: all public channels");
  token->add_option("--channel", flags->request.channel,
                    "Make a subscription token for this private channel ($name) instead of a connection token");
  token->add_option("--info", flags->request.info_json, "The info claim, as JSON (shown in presence)");
  token->add_option("--issuer", flags->request.issuer, "The iss claim");
  token->add_option("--audience", flags->request.audience, "The aud claim");
  token->add_option("--algorithm", flags->algorithm, "HS256, HS384 or HS512 [default HS256]");
  token->add_option("--kid", flags->kid, "The kid header (for a server with keys by kid)");
  token->callback([flags] {
    const int status = run_token(*flags);
    if (status != 0) std::exit(status);
  });
}

}  // namespace switchboard::cli
