#include "cli/setting_keys.h"

#include <sstream>

#include <toml++/toml.h>

namespace switchboard::cli {
namespace {

constexpr std::uint64_t kOneTerabyte = std::uint64_t{1} << 40;

}  // namespace

const std::vector<SettingField>& setting_fields() {
  static const std::vector<SettingField> table{
      {{"server.host", "--host", "Address to listen on (IPv4 or IPv6 literal)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.server.host; }},
      {{"server.port", "--port", "TCP port (0: pick a free one)", KeyType::kUnsigned, 0, 65535},
       [](ServeSettings& s) -> SettingRef { return &s.server.port; }},
      {{"server.workers", "--workers", "Worker threads, one epoll loop each (0: one per core)", KeyType::kUnsigned, 0,
        1024},
       [](ServeSettings& s) -> SettingRef { return &s.server.workers; }},
      {{"server.max_message_size", "--max-message-size", "Largest message in bytes (larger: close 1009)",
        KeyType::kUnsigned, 1, kOneTerabyte},
       [](ServeSettings& s) -> SettingRef { return &s.server.max_message_size; }},
      {{"server.max_buffered_bytes", "--max-buffered-bytes",
        "Outgoing bytes queued per connection before reading pauses and sends drop", KeyType::kUnsigned, 1,
        kOneTerabyte},
       [](ServeSettings& s) -> SettingRef { return &s.server.max_buffered_bytes; }},
      {{"server.max_header_size", "--max-header-size", "Largest HTTP request head in bytes (larger: 431)",
        KeyType::kUnsigned, 256, 1 << 20},
       [](ServeSettings& s) -> SettingRef { return &s.server.max_head_size; }},
      {{"server.handshake_timeout_ms", "--handshake-timeout-ms", "Time allowed for the HTTP upgrade",
        KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.handshake_timeout_ms; }},
      {{"server.ping_interval_ms", "--ping-interval-ms", "Server ping interval (0: no pings)", KeyType::kUnsigned, 0,
        kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.ping_interval_ms; }},
      {{"server.missed_pongs", "--missed-pongs", "Unanswered pings before a peer is dropped", KeyType::kUnsigned, 1,
        255},
       [](ServeSettings& s) -> SettingRef { return &s.server.missed_pongs_allowed; }},
      {{"server.close_timeout_ms", "--close-timeout-ms", "Wait for the peer's close frame", KeyType::kUnsigned, 1,
        kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.close_timeout_ms; }},
      {{"server.fragment_timeout_ms", "--fragment-timeout-ms",
        "A fragmented message's first frame to its last (then close 1008; 0: no limit)", KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.fragment_timeout_ms; }},
      {{"server.drain_timeout_ms", "--drain-timeout-ms", "SIGTERM: time to close connections gracefully",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.drain_timeout_ms; }},
      {{"server.drain_spread_ms", "--drain-spread-ms",
        "SIGTERM: spread the 1001 closes over this long (at most half the drain timeout)", KeyType::kUnsigned, 0,
        kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.drain_spread_ms; }},
      {{"server.drain_notice_ms", "--drain-notice-ms",
        "SIGTERM: /readyz answers 503 this long before the listeners close (for load balancers)", KeyType::kUnsigned, 0,
        kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.drain_notice_ms; }},
      {{"server.drain_answer_ms", "--drain-answer-ms",
        "SIGTERM: wait this long for a connection's unanswered commands before its 1001 (0: do not wait)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.drain_answer_ms; }},
      {{"server.max_body_size", "--max-body-size", "Largest plain HTTP request body (HTTP API) in bytes (larger: 413)",
        KeyType::kUnsigned, 0, 1u << 30},
       [](ServeSettings& s) -> SettingRef { return &s.server.max_body_size; }},
      {{"server.max_connections_per_address", "--max-connections-per-address",
        "Live connections from one client IP (more: 429; 0: no cap; behind a proxy every client is the proxy)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.max_connections_per_address; }},
      {{"server.max_new_connections_per_s", "--max-new-connections-per-s",
        "New connections per second for the whole node (more: 503 with Retry-After; 0: no cap)", KeyType::kUnsigned, 0,
        kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.server.max_new_connections_per_s; }},
      {{"server.allowed_origins", "--allowed-origin", "Origins allowed to open a WebSocket (repeatable; none: any)",
        KeyType::kStringList, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.server.allowed_origins; }},
      {{"server.trusted_proxies", "--trusted-proxy",
        "Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client (repeatable)",
        KeyType::kStringList, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.server.trusted_proxies; }},
      {{"server.tls_cert_file", "--tls-cert-file",
        "PEM certificate (then its chain) to serve TLS with (https://, wss://); empty: no TLS", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.server.tls_cert_file; }},
      {{"server.tls_key_file", "--tls-key-file", "PEM private key of server.tls_cert_file", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.server.tls_key_file; }},
      {{"server.tls_port", "--tls-port",
        "A second port, serving TLS, next to server.port's plain one (0: none: with a certificate server.port "
        "serves TLS)",
        KeyType::kUnsigned, 0, 65535},
       [](ServeSettings& s) -> SettingRef { return &s.tls_port; }},
      {{"server.tls_min_version", "--tls-min-version", "Oldest TLS version a client may use: 1.2 or 1.3",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.tls_min_version; }},
      {{"server.tls_ciphers", "--tls-ciphers",
        "TLS 1.2 cipher list, OpenSSL syntax (empty: ECDHE with AES-GCM or ChaCha20-Poly1305)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.server.tls_ciphers; }},
      {{"server.tls_ciphersuites", "--tls-ciphersuites",
        "TLS 1.3 cipher suites, OpenSSL syntax (empty: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305)", KeyType::kString,
        0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.server.tls_ciphersuites; }},
      {{"server.tls_ca_file", "--tls-ca-file", "PEM CAs that client certificates must chain to (mTLS)",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.server.tls_ca_file; }},
      {{"server.tls_client_auth", "--tls-client-auth",
        "Client certificates (mTLS): none, optional (checked when given) or required", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.tls_client_auth; }},
      {{"hub.rpc_timeout_ms", "--rpc-timeout-ms", "Time an rpc handler has to answer", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.rpc_timeout_ms; }},
      {{"hub.max_subscriptions", "--max-subscriptions", "Channels per connection", KeyType::kUnsigned, 1, 1'000'000},
       [](ServeSettings& s) -> SettingRef { return &s.hub.max_subscriptions_per_connection; }},
      {{"hub.max_held_bytes_per_connection", "--max-held-bytes-per-connection",
        "Bytes of frames held for one slow consumer (drop-oldest, keep-latest); 0: twice server.max_buffered_bytes",
        KeyType::kUnsigned, 0, kOneTerabyte},
       [](ServeSettings& s) -> SettingRef { return &s.hub.max_held_bytes_per_connection; }},
      {{"hub.max_held_bytes", "--max-held-bytes",
        "Bytes of frames held for all slow consumers of the node (drop-oldest, keep-latest)", KeyType::kUnsigned, 1,
        kOneTerabyte},
       [](ServeSettings& s) -> SettingRef { return &s.hub.max_held_bytes; }},
      {{"hub.max_history_bytes", "--max-history-bytes",
        "Bytes the channels' streams (history) may hold in the node's memory, all together (memory broker)",
        KeyType::kUnsigned, 1, kOneTerabyte},
       [](ServeSettings& s) -> SettingRef { return &s.hub.max_history_bytes; }},
      {{"hub.max_pending_rpcs_per_connection", "--max-pending-rpcs-per-connection",
        "rpcs a connection may have waiting for their answer (more: error 122)", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.max_pending_rpcs_per_connection; }},
      {{"hub.max_pending_rpcs", "--max-pending-rpcs",
        "rpcs waiting for their answer on the whole node (more: error 122)", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.max_pending_rpcs; }},
      {{"hub.max_pending_rpc_bytes", "--max-pending-rpc-bytes",
        "Request bytes (data and method) of the rpcs waiting for their answer on the whole node (more: error 122)",
        KeyType::kUnsigned, 1, kOneTerabyte},
       [](ServeSettings& s) -> SettingRef { return &s.hub.max_pending_rpc_bytes; }},
      {{"hub.max_rpc_answer_size", "--max-rpc-answer-size",
        "Largest rpc answer sent to a client, in bytes (larger: error 115; the proxy stops reading there)",
        KeyType::kUnsigned, 1, kOneTerabyte},
       [](ServeSettings& s) -> SettingRef { return &s.hub.max_rpc_answer_size; }},
      {{"hub.rpc_proxy_url", "--rpc-proxy-url",
        "Forward rpc methods without a C++ handler to this HTTP(S) URL as JSON POSTs (empty: none)", KeyType::kString,
        0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.rpc_proxy_url; }},
      {{"hub.require_subprotocol", "", "Refuse WebSockets that do not ask for switchboard.v1.json", KeyType::kBool, 0,
        0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.require_subprotocol; }},
      {{"hub.send_permission", "--send-permission",
        "Who may send to a user: authenticated (connections with a user), anyone (anonymous ones too), or token "
        "(only to the users the token's send_to claim names)",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.send_permission; }},
      {{"hub.hide_online", "--hide-online",
        "The reply to a client's send is {} instead of {\"online\": ...} (the HTTP API still says)", KeyType::kBool, 0,
        0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.hide_online; }},
      {{"auth.required", "--auth-required", "Connections must present a valid token (at the upgrade or in connect)",
        KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.required; }},
      {{"auth.hmac_secret", "", "Secret for HS* tokens without a kid (at least 32 bytes for HS256)", KeyType::kString,
        0, 0, true},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.hmac_secret; }},
      {{"auth.hmac_algorithm", "", "HS256, HS384 or HS512: the algorithm auth.hmac_secret is pinned to",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.hmac_algorithm; }},
      {{"auth.public_key_file", "--auth-public-key-file",
        "PEM public key for tokens without a kid (instead of auth.hmac_secret)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.public_key_file; }},
      {{"auth.public_key_algorithm", "",
        "RS256/384/512, PS256/384/512, ES256, ES384 or EdDSA, for auth.public_key_file", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.public_key_algorithm; }},
      {{"auth.jwks_file", "--auth-jwks-file", "JWKS file: keys by kid, each with its algorithm", KeyType::kString, 0,
        0},
       [](ServeSettings& s) -> SettingRef { return &s.jwks_file; }},
      {{"auth.issuer", "", "Required iss claim (empty: not checked)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.issuer; }},
      {{"auth.audience", "", "Required aud claim (empty: not checked)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.audience; }},
      {{"auth.leeway_s", "", "Clock skew allowed on exp, nbf and iat", KeyType::kUnsigned, 0, 3600},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.leeway_s; }},
      {{"auth.require_exp", "--auth-require-exp",
        "Refuse tokens without an exp claim (they would never expire; false: accept them)", KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.require_exp; }},
      {{"auth.connect_timeout_ms", "", "auth.required and no token at the upgrade: time to send connect",
        KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.connect_timeout_ms; }},
      {{"auth.refresh_grace_ms", "", "After a token expires: time to send refresh before close 4002",
        KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.auth.refresh_grace_ms; }},
      {{"limits.messages_per_s", "--limit-messages-per-s", "Messages a connection may send per second (0: unlimited)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.limits.messages_per_s; }},
      {{"limits.messages_burst", "", "Messages a connection may send at once", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.limits.messages_burst; }},
      {{"limits.bytes_per_s", "--limit-bytes-per-s", "Bytes a connection may send per second (0: unlimited)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.limits.bytes_per_s; }},
      {{"limits.bytes_burst", "", "Bytes a connection may send at once", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.limits.bytes_burst; }},
      {{"limits.violations_per_s", "", "Refused commands per second a client may cause before close 1008 (0: never)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.limits.violations_per_s; }},
      {{"limits.violations_burst", "", "Refused commands a client may cause at once before close 1008",
        KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.limits.violations_burst; }},
      {{"limits.sends_per_s", "--limit-sends-per-s", "sends to users a connection may make per second (0: unlimited)",
        KeyType::kUnsigned, 0, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.limits.sends_per_s; }},
      {{"limits.sends_burst", "", "sends to users a connection may make at once", KeyType::kUnsigned, 1, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.limits.sends_burst; }},
      {{"api.key", "", "Key for the HTTP API (Authorization: apikey KEY); empty: the API is off", KeyType::kString, 0,
        0, true},
       [](ServeSettings& s) -> SettingRef { return &s.api_key; }},
      {{"log.level", "--log-level", "debug, info (one line per connection opened and closed), warn, error or off",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.log_level; }},
      {{"log.format", "--log-format",
        "text (time, level, message) or json (one JSON object per line; key=value messages as fields)",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.log_format; }},
      {{"broker.url", "--broker",
        "memory:// (one node) or redis[s]://[[user]:password@]host[:port][/db] (nodes share channels through Redis; "
        "rediss: TLS)",
        KeyType::kString, 0, 0, true},
       [](ServeSettings& s) -> SettingRef { return &s.broker_url; }},
      {{"broker.cluster", "--broker-cluster",
        "broker.url is a node of a Redis Cluster: use every master, with sharded pub/sub", KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.broker_cluster; }},
      {{"broker.tls_ca_file", "--broker-tls-ca-file",
        "rediss://: PEM file of the CAs that sign Redis's certificate (empty: the system's)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.broker_tls_ca_file; }},
      {{"broker.tls_cert_file", "--broker-tls-cert-file",
        "rediss://: PEM client certificate, when Redis asks for one (tls-auth-clients)", KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.broker_tls_cert_file; }},
      {{"broker.tls_key_file", "--broker-tls-key-file", "rediss://: the client certificate's PEM private key",
        KeyType::kString, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.hub.broker_tls_key_file; }},
      {{"broker.presence_ttl_ms", "--presence-ttl-ms",
        "Redis: a node's presence entries vanish this long after it stops refreshing them (a crash)",
        KeyType::kUnsigned, 300, kNoMax},
       [](ServeSettings& s) -> SettingRef { return &s.hub.presence_ttl_ms; }},
      {{"dev.insecure_user_query", "--insecure-user-query",
        "Development only: take the user id from ?user= in the WebSocket URL, unchecked", KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.insecure_user_query; }},
      {{"dev.insecure_user_query_bypasses_auth", "--insecure-user-query-bypasses-auth",
        "With auth.required and dev.insecure_user_query: accept that ?user= connects as anyone without a token "
        "(else startup refuses the pair)",
        KeyType::kBool, 0, 0},
       [](ServeSettings& s) -> SettingRef { return &s.insecure_user_query_bypasses_auth; }},
  };
  return table;
}

const SettingField* find_setting_field(std::string_view key) {
  for (const SettingField& field : setting_fields()) {
    if (key == field.info.key) return &field;
  }
  return nullptr;
}

const std::vector<KeyInfo>& setting_keys() {
  static const std::vector<KeyInfo> keys = [] {
    std::vector<KeyInfo> out;
    for (const SettingField& field : setting_fields()) out.push_back(field.info);
    return out;
  }();
  return keys;
}

std::string problem(std::string_view source, std::string_view key, std::string_view what) {
  return std::string(source) + ": " + std::string(key) + ": " + std::string(what);
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

std::string toml_string(std::string_view text) {
  std::ostringstream quoted;
  quoted << toml::value<std::string>(std::string(text));
  return quoted.str();
}

std::string toml_value(const SettingRef& ref) {
  return std::visit(
      [](auto* value) -> std::string {
        using Value = std::remove_pointer_t<decltype(value)>;
        if constexpr (std::is_same_v<Value, std::string>) {
          return toml_string(*value);
        } else if constexpr (std::is_same_v<Value, bool>) {
          return *value ? "true" : "false";
        } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
          std::string out = "[";
          for (std::size_t i = 0; i < value->size(); ++i) {
            if (i > 0) out += ", ";
            out += toml_string((*value)[i]);
          }
          return out + "]";
        } else {
          return std::to_string(*value);
        }
      },
      ref);
}

}  // namespace switchboard::cli
