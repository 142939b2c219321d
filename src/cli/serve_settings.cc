#include "cli/serve_settings.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <variant>

#include <toml++/toml.h>

#include "auth/algorithm.h"
#include "auth/key_check.h"
#include "broker/broker_factory.h"
#include "protocol/names.h"
#include "redis/endpoint.h"
#include "server/forwarded.h"

namespace switchboard::cli {
namespace {

constexpr std::uint64_t kNoMax = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kOneTerabyte = std::uint64_t{1} << 40;

constexpr std::string_view kEnvironmentPrefix = "SWITCHBOARD_";
// SWITCHBOARD_* names that are not settings, yet are set for a reason:
//   SWITCHBOARD_CONFIG  serve reads the config file's path from it
//   SWITCHBOARD_BIN     the test harnesses (ctest, the JS SDK's) name the
//                       binary under test, and pass their environment on to
//                       the servers they start
constexpr std::string_view kNotSettings[] = {"SWITCHBOARD_CONFIG", "SWITCHBOARD_BIN"};
// A name this close to a setting's (edits) is offered as "did you mean".
constexpr std::size_t kMaxSuggestionDistance = 3;
constexpr std::string_view kSecretForms = R"(must be a string, { env = "VARIABLE" } or { file = "PATH" })";

// The namespace key slow_consumer, as written in TOML.
constexpr std::pair<std::string_view, SlowConsumerPolicy> kSlowConsumerPolicies[] = {
    {"disconnect", SlowConsumerPolicy::kDisconnect},
    {"drop", SlowConsumerPolicy::kDrop},
    {"drop-oldest", SlowConsumerPolicy::kDropOldest},
    {"keep-latest", SlowConsumerPolicy::kKeepLatest},
};

std::optional<SlowConsumerPolicy> slow_consumer_policy(std::string_view name) {
  for (const auto& [text, policy] : kSlowConsumerPolicies) {
    if (text == name) return policy;
  }
  return std::nullopt;
}

// hub.send_permission, as written in TOML.
constexpr std::pair<std::string_view, SendPermission> kSendPermissions[] = {
    {"authenticated", SendPermission::kAuthenticated},
    {"anyone", SendPermission::kAnyone},
    {"token", SendPermission::kListedUsers},
};

std::string_view slow_consumer_policy_name(SlowConsumerPolicy policy) {
  for (const auto& [text, value] : kSlowConsumerPolicies) {
    if (value == policy) return text;
  }
  return "disconnect";
}

// Where each key lives in ServeSettings. (std::size_t is std::uint64_t here.)
using Ref = std::variant<std::string*, std::uint64_t*, std::uint16_t*, unsigned*, bool*, std::vector<std::string>*>;

struct Field {
  KeyInfo info;
  Ref (*ref)(ServeSettings&);
};

const std::vector<Field>& fields() {
  static const std::vector<Field> table{
      {{"server.host", "--host", "Address to listen on (IPv4 or IPv6 literal)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.server.host; }},
      {{"server.port", "--port", "TCP port (0: pick a free one)", KeyType::kUnsigned, 0, 65535},
       [](ServeSettings& s) -> Ref { return &s.server.port; }},
      {{"server.workers", "--workers", "Worker threads, one epoll loop each (0: one per core)", KeyType::kUnsigned, 0,
        1024},
       [](ServeSettings& s) -> Ref { return &s.server.workers; }},
      {{"server.max_message_size", "--max-message-size", "Largest message in bytes (larger: close 1009)",
        KeyType::kUnsigned, 1, kOneTerabyte},
       [](ServeSettings& s) -> Ref { return &s.server.max_message_size; }},
      {{"server.max_buffered_bytes", "--max-buffered-bytes",
        "Outgoing bytes queued per connection before reading pauses and sends drop", KeyType::kUnsigned, 1,
        kOneTerabyte},
       [](ServeSettings& s) -> Ref { return &s.server.max_buffered_bytes; }},
      {{"server.max_header_size", "--max-header-size", "Largest HTTP request head in bytes (larger: 431)",
        KeyType::kUnsigned, 256, 1 << 20},
       [](ServeSettings& s) -> Ref { return &s.server.max_head_size; }},
      {{"server.handshake_timeout_ms", "--handshake-timeout-ms", "Time allowed for the HTTP upgrade",
        KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.server.handshake_timeout_ms; }},
      {{"server.ping_interval_ms", "--ping-interval-ms", "Server ping interval (0: no pings)", KeyType::kUnsigned, 0,
        kNoMax},
       [](ServeSettings& s) -> Ref { return &s.server.ping_interval_ms; }},
      {{"server.missed_pongs", "--missed-pongs", "Unanswered pings before a peer is dropped", KeyType::kUnsigned, 1,
        255},
       [](ServeSettings& s) -> Ref { return &s.server.missed_pongs_allowed; }},
      {{"server.close_timeout_ms", "--close-timeout-ms", "Wait for the peer's close frame", KeyType::kUnsigned, 1,
        kNoMax},
       [](ServeSettings& s) -> Ref { return &s.server.close_timeout_ms; }},
      {{"server.fragment_timeout_ms", "--fragment-timeout-ms",
        "A fragmented message's first frame to its last (then close 1008; 0: no limit)", KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.server.fragment_timeout_ms; }},
      {{"server.drain_timeout_ms", "--drain-timeout-ms", "SIGTERM: time to close connections gracefully",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.server.drain_timeout_ms; }},
      {{"server.drain_spread_ms", "--drain-spread-ms",
        "SIGTERM: spread the 1001 closes over this long (at most half the drain timeout)", KeyType::kUnsigned, 0,
        kNoMax},
       [](ServeSettings& s) -> Ref { return &s.server.drain_spread_ms; }},
      {{"server.drain_notice_ms", "--drain-notice-ms",
        "SIGTERM: /readyz answers 503 this long before the listeners close (for load balancers)", KeyType::kUnsigned, 0,
        kNoMax},
       [](ServeSettings& s) -> Ref { return &s.server.drain_notice_ms; }},
      {{"server.max_body_size", "--max-body-size", "Largest plain HTTP request body (HTTP API) in bytes (larger: 413)",
        KeyType::kUnsigned, 0, 1u << 30},
       [](ServeSettings& s) -> Ref { return &s.server.max_body_size; }},
      {{"server.max_connections_per_address", "--max-connections-per-address",
        "Live connections from one client IP (more: 429; 0: no cap; behind a proxy every client is the proxy)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.server.max_connections_per_address; }},
      {{"server.max_new_connections_per_s", "--max-new-connections-per-s",
        "New connections per second for the whole node (more: 503 with Retry-After; 0: no cap)", KeyType::kUnsigned, 0,
        kNoMax},
       [](ServeSettings& s) -> Ref { return &s.server.max_new_connections_per_s; }},
      {{"server.allowed_origins", "--allowed-origin", "Origins allowed to open a WebSocket (repeatable; none: any)",
        KeyType::kStringList, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.server.allowed_origins; }},
      {{"server.trusted_proxies", "--trusted-proxy",
        "Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client (repeatable)",
        KeyType::kStringList, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.server.trusted_proxies; }},
      {{"hub.rpc_timeout_ms", "--rpc-timeout-ms", "Time an rpc handler has to answer", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.rpc_timeout_ms; }},
      {{"hub.max_subscriptions", "--max-subscriptions", "Channels per connection", KeyType::kUnsigned, 1, 1'000'000},
       [](ServeSettings& s) -> Ref { return &s.hub.max_subscriptions_per_connection; }},
      {{"hub.max_held_bytes_per_connection", "--max-held-bytes-per-connection",
        "Bytes of frames held for one slow consumer (drop-oldest, keep-latest); 0: twice server.max_buffered_bytes",
        KeyType::kUnsigned, 0, kOneTerabyte},
       [](ServeSettings& s) -> Ref { return &s.hub.max_held_bytes_per_connection; }},
      {{"hub.max_held_bytes", "--max-held-bytes",
        "Bytes of frames held for all slow consumers of the node (drop-oldest, keep-latest)", KeyType::kUnsigned, 1,
        kOneTerabyte},
       [](ServeSettings& s) -> Ref { return &s.hub.max_held_bytes; }},
      {{"hub.max_pending_rpcs_per_connection", "--max-pending-rpcs-per-connection",
        "rpcs a connection may have waiting for their answer (more: error 122)", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.max_pending_rpcs_per_connection; }},
      {{"hub.max_pending_rpcs", "--max-pending-rpcs",
        "rpcs waiting for their answer on the whole node (more: error 122)", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.max_pending_rpcs; }},
      {{"hub.max_pending_rpc_bytes", "--max-pending-rpc-bytes",
        "Request bytes (data and method) of the rpcs waiting for their answer on the whole node (more: error 122)",
        KeyType::kUnsigned, 1, kOneTerabyte},
       [](ServeSettings& s) -> Ref { return &s.hub.max_pending_rpc_bytes; }},
      {{"hub.max_rpc_answer_size", "--max-rpc-answer-size",
        "Largest rpc answer sent to a client, in bytes (larger: error 115; the proxy stops reading there)",
        KeyType::kUnsigned, 1, kOneTerabyte},
       [](ServeSettings& s) -> Ref { return &s.hub.max_rpc_answer_size; }},
      {{"hub.rpc_proxy_url", "--rpc-proxy-url",
        "Forward rpc methods without a C++ handler to this HTTP(S) URL as JSON POSTs (empty: none)", KeyType::kString,
        0, 0},
       [](ServeSettings& s) -> Ref { return &s.rpc_proxy_url; }},
      {{"hub.require_subprotocol", "", "Refuse WebSockets that do not ask for switchboard.v1.json", KeyType::kBool, 0,
        0},
       [](ServeSettings& s) -> Ref { return &s.hub.require_subprotocol; }},
      {{"hub.send_permission", "--send-permission",
        "Who may send to a user: authenticated (connections with a user), anyone (anonymous ones too), or token "
        "(only to the users the token's send_to claim names)",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.send_permission; }},
      {{"hub.hide_online", "--hide-online",
        "The reply to a client's send is {} instead of {\"online\": ...} (the HTTP API still says)", KeyType::kBool, 0,
        0},
       [](ServeSettings& s) -> Ref { return &s.hub.hide_online; }},
      {{"auth.required", "--auth-required", "Connections must present a valid token (at the upgrade or in connect)",
        KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.required; }},
      {{"auth.hmac_secret", "", "Secret for HS* tokens without a kid (at least 32 bytes for HS256)", KeyType::kString,
        0, 0, true},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.hmac_secret; }},
      {{"auth.hmac_algorithm", "", "HS256, HS384 or HS512: the algorithm auth.hmac_secret is pinned to",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.hmac_algorithm; }},
      {{"auth.public_key_file", "--auth-public-key-file",
        "PEM public key for tokens without a kid (instead of auth.hmac_secret)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.public_key_file; }},
      {{"auth.public_key_algorithm", "",
        "RS256/384/512, PS256/384/512, ES256, ES384 or EdDSA, for auth.public_key_file", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.public_key_algorithm; }},
      {{"auth.jwks_file", "--auth-jwks-file", "JWKS file: keys by kid, each with its algorithm", KeyType::kString, 0,
        0},
       [](ServeSettings& s) -> Ref { return &s.jwks_file; }},
      {{"auth.issuer", "", "Required iss claim (empty: not checked)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.issuer; }},
      {{"auth.audience", "", "Required aud claim (empty: not checked)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.audience; }},
      {{"auth.leeway_s", "", "Clock skew allowed on exp, nbf and iat", KeyType::kUnsigned, 0, 3600},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.leeway_s; }},
      {{"auth.require_exp", "--auth-require-exp",
        "Refuse tokens without an exp claim (they would never expire; false: accept them)", KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.require_exp; }},
      {{"auth.connect_timeout_ms", "", "auth.required and no token at the upgrade: time to send connect",
        KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.connect_timeout_ms; }},
      {{"auth.refresh_grace_ms", "", "After a token expires: time to send refresh before close 4002",
        KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.auth.refresh_grace_ms; }},
      {{"limits.messages_per_s", "--limit-messages-per-s", "Messages a connection may send per second (0: unlimited)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.limits.messages_per_s; }},
      {{"limits.messages_burst", "", "Messages a connection may send at once", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.limits.messages_burst; }},
      {{"limits.bytes_per_s", "--limit-bytes-per-s", "Bytes a connection may send per second (0: unlimited)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.limits.bytes_per_s; }},
      {{"limits.bytes_burst", "", "Bytes a connection may send at once", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.limits.bytes_burst; }},
      {{"limits.violations_per_s", "", "Refused commands per second a client may cause before close 1008 (0: never)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.limits.violations_per_s; }},
      {{"limits.violations_burst", "", "Refused commands a client may cause at once before close 1008",
        KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.limits.violations_burst; }},
      {{"limits.sends_per_s", "--limit-sends-per-s", "sends to users a connection may make per second (0: unlimited)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.limits.sends_per_s; }},
      {{"limits.sends_burst", "", "sends to users a connection may make at once", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.limits.sends_burst; }},
      {{"api.key", "", "Key for the HTTP API (Authorization: apikey KEY); empty: the API is off", KeyType::kString, 0,
        0, true},
       [](ServeSettings& s) -> Ref { return &s.api_key; }},
      {{"log.level", "--log-level", "debug, info (one line per connection opened and closed), warn, error or off",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.log_level; }},
      {{"log.format", "--log-format",
        "text (time, level, message) or json (one JSON object per line; key=value messages as fields)",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.log_format; }},
      {{"broker.url", "--broker",
        "memory:// (one node) or redis[s]://[[user]:password@]host[:port][/db] (nodes share channels through Redis; "
        "rediss: TLS)",
        KeyType::kString, 0, 0, true},
       [](ServeSettings& s) -> Ref { return &s.broker_url; }},
      {{"broker.cluster", "--broker-cluster",
        "broker.url is a node of a Redis Cluster: use every master, with sharded pub/sub", KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.broker_cluster; }},
      {{"broker.tls_ca_file", "--broker-tls-ca-file",
        "rediss://: PEM file of the CAs that sign Redis's certificate (empty: the system's)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.broker_tls_ca_file; }},
      {{"broker.tls_cert_file", "--broker-tls-cert-file",
        "rediss://: PEM client certificate, when Redis asks for one (tls-auth-clients)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.broker_tls_cert_file; }},
      {{"broker.tls_key_file", "--broker-tls-key-file", "rediss://: the client certificate's PEM private key",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.hub.broker_tls_key_file; }},
      {{"broker.presence_ttl_ms", "--presence-ttl-ms",
        "Redis: a node's presence entries vanish this long after it stops refreshing them (a crash)",
        KeyType::kUnsigned, 300, kNoMax},
       [](ServeSettings& s) -> Ref { return &s.hub.presence_ttl_ms; }},
      {{"dev.insecure_user_query", "--insecure-user-query",
        "Development only: take the user id from ?user= in the WebSocket URL, unchecked", KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.insecure_user_query; }},
      {{"dev.insecure_user_query_bypasses_auth", "--insecure-user-query-bypasses-auth",
        "With auth.required and dev.insecure_user_query: accept that ?user= connects as anyone without a token "
        "(else startup refuses the pair)",
        KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> Ref { return &s.insecure_user_query_bypasses_auth; }},
  };
  return table;
}

const Field* find_field(std::string_view key) {
  for (const Field& field : fields()) {
    if (key == field.info.key) return &field;
  }
  return nullptr;
}

std::string problem(std::string_view source, std::string_view key, std::string_view what) {
  return std::string(source) + ": " + std::string(key) + ": " + std::string(what);
}

bool parse_unsigned(std::string_view text, std::uint64_t* value) {
  const auto result = std::from_chars(text.data(), text.data() + text.size(), *value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size() && !text.empty();
}

bool parse_bool(std::string_view text, bool* value) {
  if (text == "true" || text == "1" || text == "yes") {
    *value = true;
  } else if (text == "false" || text == "0" || text == "no") {
    *value = false;
  } else {
    return false;
  }
  return true;
}

// Stores an unsigned value into whichever integer the field is, in range.
std::string store_unsigned(ServeSettings& settings, const Field& field, std::uint64_t value, std::string_view source) {
  if (value < field.info.min || value > field.info.max) {
    std::string range = "must be at least " + std::to_string(field.info.min);
    if (field.info.max != kNoMax) range += " and at most " + std::to_string(field.info.max);
    return problem(source, field.info.key, range + " (got " + std::to_string(value) + ")");
  }
  return std::visit(
      [&](auto* target) -> std::string {
        using Target = std::remove_pointer_t<decltype(target)>;
        if constexpr (std::is_same_v<Target, std::uint64_t> || std::is_same_v<Target, std::uint16_t> ||
                      std::is_same_v<Target, unsigned>) {
          *target = static_cast<Target>(value);
          return "";
        } else {
          return problem(source, field.info.key, "is not a number");
        }
      },
      field.ref(settings));
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return items;
}

// Levenshtein distance, for "did you mean" (names of a few dozen bytes).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The setting whose name (by `name_of`) is closest to `name`; "" if none is close.
template <typename NameOf>
std::string closest_setting(std::string_view name, NameOf name_of) {
  std::string best;
  std::size_t best_distance = kMaxSuggestionDistance + 1;
  for (const Field& field : fields()) {
    std::string candidate = name_of(field.info.key);
    const std::size_t distance = edit_distance(name, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = std::move(candidate);
    }
  }
  return best;
}

// "did you mean server.port?", or "" when nothing is close.
std::string did_you_mean(const std::string& suggestion) {
  return suggestion.empty() ? "" : "did you mean " + suggestion + "?";
}

void note_secret_source(ServeSettings& settings, std::string_view key, const std::string& value,
                        SecretSource::Kind kind, std::string_view name) {
  if (value.empty()) {
    settings.secret_sources.erase(std::string(key));
  } else {
    settings.secret_sources[std::string(key)] = SecretSource{kind, std::string(name)};
  }
}

// The whole file is the secret, but for the newline an editor or `echo`
// leaves at its end.
std::string read_secret_file(const std::string& path, std::string* secret) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return "cannot read '" + path + "'";
  std::ostringstream text;
  text << file.rdbuf();
  *secret = text.str();
  if (secret->ends_with('\n')) secret->pop_back();
  if (secret->ends_with('\r')) secret->pop_back();
  if (secret->empty()) return "'" + path + "' is empty";
  return "";
}

// A secret in the file: a string, { env = "VARIABLE" } or { file = "PATH" };
// { redacted = ... } is what --print-config wrote in place of a value.
std::string apply_secret_node(ServeSettings& settings, const Field& field, const toml::node& node,
                              std::string_view source, const EnvironmentLookup& lookup) {
  const std::string_view key = field.info.key;
  std::string& value = *std::get<std::string*>(field.ref(settings));
  if (node.is_string()) {
    value = node.value<std::string>().value();
    note_secret_source(settings, key, value, SecretSource::Kind::kValue, source);
    return "";
  }
  const toml::table* table = node.as_table();
  if (table == nullptr || table->size() != 1) return problem(source, key, kSecretForms);
  const auto entry = table->begin();  // it holds the pair it hands out
  const std::string_view form = entry->first.str();
  const toml::node& reference_node = entry->second;
  if (form == "redacted") {
    return problem(source, key,
                   "not printed by --print-config (" + reference_node.value<std::string>().value_or("a secret") +
                       "): write the value here, or { env = \"VARIABLE\" } or { file = \"PATH\" }");
  }
  if (!reference_node.is_string() || (form != "env" && form != "file")) return problem(source, key, kSecretForms);
  const std::string reference = reference_node.value<std::string>().value();
  std::string secret;
  if (form == "env") {
    const char* text = lookup ? lookup(reference.c_str()) : std::getenv(reference.c_str());
    if (text == nullptr) return problem(source, key, "the environment variable " + reference + " is not set");
    secret = text;
    if (secret.empty()) return problem(source, key, "the environment variable " + reference + " is empty");
  } else if (std::string error = read_secret_file(reference, &secret); !error.empty()) {
    return problem(source, key, error);
  }
  value = std::move(secret);
  note_secret_source(settings, key, value, form == "env" ? SecretSource::Kind::kEnvironment : SecretSource::Kind::kFile,
                     reference);
  return "";
}

std::string apply_node(ServeSettings& settings, const Field& field, const toml::node& node, std::string_view source,
                       const EnvironmentLookup& lookup) {
  if (field.info.secret) return apply_secret_node(settings, field, node, source, lookup);
  switch (field.info.type) {
    case KeyType::kString:
      if (!node.is_string()) return problem(source, field.info.key, "must be a string");
      *std::get<std::string*>(field.ref(settings)) = node.value<std::string>().value();
      return "";
    case KeyType::kBool:
      if (!node.is_boolean()) return problem(source, field.info.key, "must be true or false");
      *std::get<bool*>(field.ref(settings)) = node.value<bool>().value();
      return "";
    case KeyType::kUnsigned: {
      if (!node.is_integer()) return problem(source, field.info.key, "must be an integer");
      const std::int64_t value = node.value<std::int64_t>().value();
      if (value < 0) return problem(source, field.info.key, "must not be negative");
      return store_unsigned(settings, field, static_cast<std::uint64_t>(value), source);
    }
    case KeyType::kStringList: {
      const toml::array* array = node.as_array();
      if (array == nullptr) return problem(source, field.info.key, "must be an array of strings");
      std::vector<std::string> items;
      for (const toml::node& item : *array) {
        if (!item.is_string()) return problem(source, field.info.key, "must be an array of strings");
        items.push_back(item.value<std::string>().value());
      }
      *std::get<std::vector<std::string>*>(field.ref(settings)) = std::move(items);
      return "";
    }
  }
  return problem(source, field.info.key, "unsupported type");
}

std::string apply_namespace_table(const toml::table& table, std::size_t index, std::string_view source,
                                  NamespaceOptions* options) {
  const std::string where = "namespaces[" + std::to_string(index) + "]";
  for (const auto& [name, node] : table) {
    const std::string key = where + "." + std::string(name.str());
    if (name == "pattern") {
      if (!node.is_string()) return problem(source, key, "must be a string");
      options->pattern = node.value<std::string>().value();
    } else if (name == "presence" || name == "join_leave" || name == "client_publish") {
      if (!node.is_boolean()) return problem(source, key, "must be true or false");
      const bool value = node.value<bool>().value();
      if (name == "presence") options->presence = value;
      if (name == "join_leave") options->join_leave = value;
      if (name == "client_publish") options->client_publish = value;
    } else if (name == "slow_consumer") {
      const std::optional<SlowConsumerPolicy> policy = slow_consumer_policy(node.value<std::string>().value_or(""));
      if (!policy) {
        return problem(source, key, "must be \"disconnect\", \"drop\", \"drop-oldest\" or \"keep-latest\"");
      }
      options->slow_consumer = *policy;
    } else if (name == "slow_consumer_backlog") {
      if (!node.is_integer() || node.value<std::int64_t>().value() < 1 ||
          node.value<std::int64_t>().value() > 100'000) {
        return problem(source, key, "must be an integer from 1 to 100000");
      }
      options->slow_consumer_backlog = static_cast<std::uint32_t>(node.value<std::int64_t>().value());
    } else if (name == "publish_per_s" || name == "publish_burst") {
      if (!node.is_integer() || node.value<std::int64_t>().value() < 0) {
        return problem(source, key, "must be a non-negative integer");
      }
      const auto value = static_cast<std::uint64_t>(node.value<std::int64_t>().value());
      if (name == "publish_per_s") options->publish_per_s = value;
      if (name == "publish_burst") options->publish_burst = value;
    } else if (name == "history_size" || name == "history_ttl") {
      if (!node.is_integer() || node.value<std::int64_t>().value() < 0) {
        return problem(source, key, "must be a non-negative integer");
      }
      const auto value = static_cast<std::uint64_t>(node.value<std::int64_t>().value());
      if (name == "history_size") options->history_size = value;
      if (name == "history_ttl") options->history_ttl_s = value;
    } else {
      return problem(source, key,
                     "unknown key (pattern, presence, join_leave, client_publish, slow_consumer, "
                     "slow_consumer_backlog, publish_per_s, publish_burst, history_size, history_ttl)");
    }
  }
  if (options->pattern.empty()) return problem(source, where + ".pattern", "is required");
  // join/leave events come from the presence table.
  if (options->join_leave) options->presence = true;
  return "";
}

std::string check_pattern(std::string_view pattern) {
  if (pattern == "*") return "";
  std::string_view name = pattern;
  if (name.size() >= 2 && name.substr(name.size() - 2) == ":*") name.remove_suffix(2);
  if (!protocol::is_valid_channel(name)) {
    return "pattern '" + std::string(pattern) + "' must be a channel name, a namespace followed by :*, or *";
  }
  return "";
}

void append_toml_string(std::string& out, std::string_view text) {
  std::ostringstream quoted;
  quoted << toml::value<std::string>(std::string(text));
  out += quoted.str();
}

void append_value(std::string& out, const Ref& ref) {
  std::visit(
      [&](auto* value) {
        using Value = std::remove_pointer_t<decltype(value)>;
        if constexpr (std::is_same_v<Value, std::string>) {
          append_toml_string(out, *value);
        } else if constexpr (std::is_same_v<Value, bool>) {
          out += *value ? "true" : "false";
        } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
          out += "[";
          for (std::size_t i = 0; i < value->size(); ++i) {
            if (i > 0) out += ", ";
            append_toml_string(out, (*value)[i]);
          }
          out += "]";
        } else {
          out += std::to_string(*value);
        }
      },
      ref);
}

// A secret that is set; a broker URL only when it holds a password.
bool printed_as_reference(ServeSettings& settings, const Field& field) {
  if (!field.info.secret) return false;
  const std::string& value = *std::get<std::string*>(field.ref(settings));
  if (value.empty()) return false;
  return field.info.key != std::string_view("broker.url") || redis::redact_redis_url(value) != value;
}

// { env = 'NAME' }, { file = 'PATH' } or { redacted = 'from FILE' }.
std::string secret_reference(const ServeSettings& settings, std::string_view key) {
  const auto found = settings.secret_sources.find(key);
  const SecretSource source = found == settings.secret_sources.end() ? SecretSource{} : found->second;
  std::string out = "{ ";
  switch (source.kind) {
    case SecretSource::Kind::kEnvironment:
      out += "env = ";
      append_toml_string(out, source.name);
      break;
    case SecretSource::Kind::kFile:
      out += "file = ";
      append_toml_string(out, source.name);
      break;
    case SecretSource::Kind::kValue:
      out += "redacted = ";
      append_toml_string(out, source.name.empty() ? "not printed" : "from " + source.name);
      break;
  }
  return out + " }";
}

}  // namespace

std::string value_as_toml(const ServeSettings& settings, std::string_view key) {
  const Field* field = find_field(key);
  if (field == nullptr) return "";
  ServeSettings copy = settings;
  std::string out;
  append_value(out, field->ref(copy));
  return out;
}

const std::vector<KeyInfo>& setting_keys() {
  static const std::vector<KeyInfo> keys = [] {
    std::vector<KeyInfo> out;
    for (const Field& field : fields()) out.push_back(field.info);
    return out;
  }();
  return keys;
}

std::string environment_name(std::string_view key) {
  std::string name = "SWITCHBOARD_";
  for (char c : key) name.push_back(c == '.' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  return name;
}

std::string apply_text(ServeSettings& settings, std::string_view key, std::string_view text, std::string_view source) {
  const Field* field = find_field(key);
  if (field == nullptr) return problem(source, key, "unknown key");
  switch (field->info.type) {
    case KeyType::kString:
      *std::get<std::string*>(field->ref(settings)) = std::string(text);
      if (field->info.secret) note_secret_source(settings, key, std::string(text), SecretSource::Kind::kValue, source);
      return "";
    case KeyType::kBool: {
      bool value = false;
      if (!parse_bool(text, &value)) return problem(source, key, "must be true or false");
      *std::get<bool*>(field->ref(settings)) = value;
      return "";
    }
    case KeyType::kUnsigned: {
      std::uint64_t value = 0;
      if (!parse_unsigned(text, &value)) return problem(source, key, "must be a non-negative integer");
      return store_unsigned(settings, *field, value, source);
    }
    case KeyType::kStringList:
      *std::get<std::vector<std::string>*>(field->ref(settings)) = split_list(text);
      return "";
  }
  return problem(source, key, "unsupported type");
}

std::string apply_toml(ServeSettings& settings, std::string_view toml_text, std::string_view source_name,
                       const EnvironmentLookup& lookup) {
  toml::table document;
  try {
    document = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& error) {
    return std::string(source_name) + ":" + std::to_string(error.source().begin.line) + ": " +
           std::string(error.description());
  }
  for (const auto& [section_name, section] : document) {
    const std::string section_key(section_name.str());
    if (section_key == "namespaces") {
      const toml::array* tables = section.as_array();
      if (tables == nullptr) return problem(source_name, "namespaces", "must be [[namespaces]] tables");
      std::vector<NamespaceOptions> namespaces;
      for (std::size_t i = 0; i < tables->size(); ++i) {
        const toml::table* table = (*tables)[i].as_table();
        if (table == nullptr) return problem(source_name, "namespaces", "must be [[namespaces]] tables");
        NamespaceOptions options;
        if (std::string error = apply_namespace_table(*table, i, source_name, &options); !error.empty()) return error;
        namespaces.push_back(std::move(options));
      }
      settings.hub.namespaces = std::move(namespaces);
      continue;
    }
    const toml::table* table = section.as_table();
    if (table == nullptr) return problem(source_name, section_key, "must be a [" + section_key + "] table");
    for (const auto& [name, node] : *table) {
      const std::string key = section_key + "." + std::string(name.str());
      const Field* field = find_field(key);
      if (field == nullptr) {
        const std::string suggestion = closest_setting(key, [](std::string_view name) { return std::string(name); });
        const std::string hint = did_you_mean(suggestion);
        return problem(source_name, key, "unknown key (see docs/CONFIG.md)" + (hint.empty() ? "" : "; " + hint));
      }
      if (std::string error = apply_node(settings, *field, node, source_name, lookup); !error.empty()) return error;
    }
  }
  return "";
}

std::string apply_environment(ServeSettings& settings, const EnvironmentLookup& lookup) {
  for (const Field& field : fields()) {
    const std::string name = environment_name(field.info.key);
    if (const char* value = lookup(name.c_str())) {
      if (std::string error = apply_text(settings, field.info.key, value, name); !error.empty()) return error;
      if (field.info.secret) {
        note_secret_source(settings, field.info.key, value, SecretSource::Kind::kEnvironment, name);
      }
    }
  }
  return "";
}

std::string check_environment_names(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (!name.starts_with(kEnvironmentPrefix)) continue;
    if (std::find(std::begin(kNotSettings), std::end(kNotSettings), name) != std::end(kNotSettings)) continue;
    const bool setting = std::any_of(fields().begin(), fields().end(),
                                     [&](const Field& field) { return environment_name(field.info.key) == name; });
    if (setting) continue;
    const std::string hint = did_you_mean(closest_setting(name, environment_name));
    return name + ": not a setting" + (hint.empty() ? "" : " (" + hint + ")") +
           "; settings are SWITCHBOARD_<SECTION>_<KEY> as listed in docs/CONFIG.md";
  }
  return "";
}

std::string validate(const ServeSettings& settings) {
  broker::BrokerSettings broker;
  broker.url = settings.broker_url;
  broker.cluster = settings.hub.broker_cluster;
  if (const base::Result<void> checked = broker::check_broker_settings(broker); !checked) return checked.error();
  for (const NamespaceOptions& options : settings.hub.namespaces) {
    if (std::string error = check_pattern(options.pattern); !error.empty()) return "namespaces: " + error;
  }
  const std::string& level = settings.log_level;
  if (level != "debug" && level != "info" && level != "warn" && level != "error" && level != "off") {
    return "log.level: '" + level + "' is not debug, info, warn, error or off";
  }
  if (const auto trusted = server::AddressSet::parse(settings.server.trusted_proxies); !trusted) {
    return "server.trusted_proxies: " + trusted.error();
  }
  if (settings.log_format != "text" && settings.log_format != "json") {
    return "log.format: '" + settings.log_format + "' is not text or json";
  }
  const AuthConfig& auth = settings.hub.auth;
  if (auth.required && auth.hmac_secret.empty() && settings.public_key_file.empty() && settings.jwks_file.empty()) {
    return "auth.required: needs a key: auth.hmac_secret, auth.public_key_file or auth.jwks_file";
  }
  if (!auth.hmac_secret.empty()) {
    const std::optional<auth::Algorithm> algorithm = auth::algorithm_from_name(auth.hmac_algorithm);
    if (!algorithm) return "auth.hmac_algorithm: unknown algorithm '" + auth.hmac_algorithm + "'";
    if (std::string problem = auth::check_hmac_secret(*algorithm, auth.hmac_secret); !problem.empty()) {
      return "auth.hmac_secret: " + problem;
    }
  }
  if (settings.insecure_user_query && auth.required && !settings.insecure_user_query_bypasses_auth) {
    return "dev.insecure_user_query: with auth.required, ?user=NAME connects as NAME without a token, which "
           "defeats auth.required; drop one of the two, or set dev.insecure_user_query_bypasses_auth = true "
           "(--insecure-user-query-bypasses-auth) if that is really meant";
  }
  if (!auth.hmac_secret.empty() && !settings.public_key_file.empty()) {
    return "auth.public_key_file: give either auth.hmac_secret or a public key for tokens without a kid, not both";
  }
  if (!send_permission_from_name(settings.send_permission)) {
    return "hub.send_permission: '" + settings.send_permission + "' is not authenticated, anyone or token";
  }
  const std::string& proxy = settings.rpc_proxy_url;
  if (!proxy.empty() && !proxy.starts_with("http://") && !proxy.starts_with("https://")) {
    return "hub.rpc_proxy_url: '" + proxy + "' is not an http:// or https:// URL";
  }
  return "";
}

std::optional<SendPermission> send_permission_from_name(std::string_view name) {
  for (const auto& [text, permission] : kSendPermissions) {
    if (text == name) return permission;
  }
  return std::nullopt;
}

std::string load_key_files(ServeSettings* settings) {
  const auto read = [](const std::string& path, std::string_view key, std::string* out) -> std::string {
    if (path.empty()) {
      out->clear();
      return "";
    }
    std::ifstream file(path);
    if (!file) return std::string(key) + ": cannot read '" + path + "'";
    std::ostringstream text;
    text << file.rdbuf();
    *out = text.str();
    if (out->empty()) return std::string(key) + ": '" + path + "' is empty";
    return "";
  };
  if (std::string error = read(settings->public_key_file, "auth.public_key_file", &settings->hub.auth.public_key_pem);
      !error.empty()) {
    return error;
  }
  return read(settings->jwks_file, "auth.jwks_file", &settings->hub.auth.jwks_json);
}

std::string parse_namespace_flag(std::string_view text, NamespaceOptions* options) {
  const std::size_t equals = text.find('=');
  options->pattern = std::string(text.substr(0, equals));
  if (std::string error = check_pattern(options->pattern); !error.empty()) return "--namespace: " + error;
  std::string_view flags = equals == std::string_view::npos ? std::string_view() : text.substr(equals + 1);
  for (const std::string& flag : split_list(flags)) {
    if (flag == "presence") {
      options->presence = true;
    } else if (flag == "join_leave") {
      options->presence = true;
      options->join_leave = true;
    } else if (flag == "no_client_publish") {
      options->client_publish = false;
    } else if (flag == "drop_slow") {
      options->slow_consumer = SlowConsumerPolicy::kDrop;
    } else if (flag == "drop_oldest") {
      options->slow_consumer = SlowConsumerPolicy::kDropOldest;
    } else if (flag == "keep_latest") {
      options->slow_consumer = SlowConsumerPolicy::kKeepLatest;
    } else {
      return "--namespace: unknown option '" + flag +
             "' (presence, join_leave, no_client_publish, drop_slow, drop_oldest, keep_latest)";
    }
  }
  return "";
}

std::vector<std::string> redacted_secrets(const ServeSettings& settings) {
  ServeSettings copy = settings;  // fields() hands out mutable references
  std::vector<std::string> keys;
  for (const Field& field : fields()) {
    if (!printed_as_reference(copy, field)) continue;
    const auto source = settings.secret_sources.find(field.info.key);
    if (source == settings.secret_sources.end() || source->second.kind == SecretSource::Kind::kValue) {
      keys.emplace_back(field.info.key);
    }
  }
  return keys;
}

std::string to_toml(const ServeSettings& settings) {
  ServeSettings copy = settings;  // fields() hands out mutable references
  std::string out = "# effective configuration (switchboard serve --print-config)\n";
  if (const std::vector<std::string> redacted = redacted_secrets(settings); !redacted.empty()) {
    std::string keys;
    for (const std::string& key : redacted) keys += (keys.empty() ? "" : ", ") + key;
    out += "#\n# WARNING: not printed: " + keys +
           ". Each is written as { redacted = ... }, which a server\n"
           "# refuses to start from until it is given here as a value, { env = \"VARIABLE\" } or\n"
           "# { file = \"PATH\" } (docs/CONFIG.md, \"Secrets\").\n";
  }
  std::string section;
  for (const Field& field : fields()) {
    const std::string_view key = field.info.key;
    const std::string_view this_section = key.substr(0, key.find('.'));
    if (this_section != section) {
      section = std::string(this_section);
      out += "\n[" + section + "]\n";
    }
    const std::string name(key.substr(key.find('.') + 1));
    if (printed_as_reference(copy, field)) {
      out += name + " = " + secret_reference(settings, key);
      if (key == "broker.url") out += "  # " + redis::redact_redis_url(settings.broker_url);
      out += "\n";
      continue;
    }
    out += name + " = ";
    append_value(out, field.ref(copy));
    out += "\n";
  }
  for (const NamespaceOptions& options : settings.hub.namespaces) {
    out += "\n[[namespaces]]\npattern = ";
    append_toml_string(out, options.pattern);
    out += std::string("\npresence = ") + (options.presence ? "true" : "false");
    out += std::string("\njoin_leave = ") + (options.join_leave ? "true" : "false");
    out += std::string("\nclient_publish = ") + (options.client_publish ? "true" : "false");
    out += "\nslow_consumer = \"" + std::string(slow_consumer_policy_name(options.slow_consumer)) + "\"";
    out += "\nslow_consumer_backlog = " + std::to_string(options.slow_consumer_backlog);
    out += "\npublish_per_s = " + std::to_string(options.publish_per_s);
    out += "\npublish_burst = " + std::to_string(options.publish_burst);
    out += "\nhistory_size = " + std::to_string(options.history_size);
    out += "\nhistory_ttl = " + std::to_string(options.history_ttl_s) + "\n";
  }
  return out;
}

}  // namespace switchboard::cli
