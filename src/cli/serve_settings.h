// What `switchboard serve` runs with, and where each value comes from:
// built-in defaults, then the TOML file (--config), then SWITCHBOARD_*
// environment variables, then flags; a later source wins (DESIGN "Command
// line and config contract"). Every key is listed in docs/CONFIG.md.
//
// Each function that can fail returns a base::Result whose error is one
// line naming the source, the key and the problem, which stops the server
// before it starts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "switchboard/hub.h"
#include "switchboard/server.h"

namespace switchboard::cli {

// getenv, or a map in tests.
using EnvironmentLookup = std::function<const char*(const char* name)>;

// Where a secret's value came from, so that --print-config can name the
// source instead of printing the value.
struct SecretSource {
  enum class Kind : std::uint8_t {
    kValue,        // written out: in a config file, or on a flag (--broker)
    kEnvironment,  // a variable: SWITCHBOARD_API_KEY, or { env = "NAME" } in the file
    kFile,         // { file = "PATH" } in the file: the whole file is the secret
  };
  Kind kind = Kind::kValue;
  std::string name;  // the config file or flag, the variable, or the path
};

struct ServeSettings {
  ServerConfig server;
  HubConfig hub;
  std::string broker_url = "memory://";
  std::string rpc_proxy_url;         // hub.rpc_proxy_url: "" forwards nothing
  bool insecure_user_query = false;  // dev.insecure_user_query
  // dev.insecure_user_query_bypasses_auth: the operator's word that, with
  // auth.required, ?user= connecting as anyone without a token is meant.
  bool insecure_user_query_bypasses_auth = false;
  // Key files, read by the program into hub.auth (public_key_pem, jwks_json)
  // at start and on SIGHUP.
  std::string public_key_file;           // auth.public_key_file
  std::string jwks_file;                 // auth.jwks_file
  std::string api_key;                   // api.key: "" disables the HTTP API
  std::string log_level = "info";        // log.level: debug, info, warn, error, off
  std::string log_format = "text";       // log.format: text, json
  std::string tls_min_version = "1.2";   // server.tls_min_version: 1.2, 1.3 (into server.tls_min_version)
  std::uint16_t tls_port = 0;            // server.tls_port: 0 none (into server.tls_port)
  std::string tls_client_auth = "none";  // server.tls_client_auth: none, optional, required
  // hub.send_permission: authenticated, anyone, token (into hub.send_permission by send_permission_from_name)
  std::string send_permission = "authenticated";
  // By key ("api.key"), for the secrets that are set.
  std::map<std::string, SecretSource, std::less<>> secret_sources;
};

enum class KeyType : std::uint8_t { kString, kUnsigned, kBool, kStringList };

// One scalar key: its TOML name "section.key", its flag ("" if it has none),
// and the range an unsigned value must lie in. A secret (a key, or a URL
// that may hold a password) is never printed, and in the file may be given
// by reference: { env = "VARIABLE" } or { file = "PATH" }. The keys have no
// flag (the process list would show it); broker.url has one for URLs
// without a password.
struct KeyInfo {
  const char* key;
  const char* flag;
  const char* help;
  KeyType type;
  std::uint64_t min;
  std::uint64_t max;
  bool secret = false;
};

const std::vector<KeyInfo>& setting_keys();

// "server.max_message_size" -> "SWITCHBOARD_SERVER_MAX_MESSAGE_SIZE".
std::string environment_name(std::string_view key);

// Sets key from text (an environment variable's or a flag's value): numbers
// in decimal, booleans true/false/1/0/yes/no, lists comma-separated.
// `source` names where the text came from, for the message.
base::Result<void> apply_text(ServeSettings& settings, std::string_view key, std::string_view text,
                              std::string_view source);

// Applies a TOML document: the scalar keys by section, and [[namespaces]]
// tables. Unknown sections and keys are errors (a typo must not pass
// silently). source_name is the file name in messages. lookup resolves a
// secret's { env = "VARIABLE" } (empty: getenv).
base::Result<void> apply_toml(ServeSettings& settings, std::string_view toml_text, std::string_view source_name,
                              const EnvironmentLookup& lookup = {});

// Applies every SWITCHBOARD_* variable that lookup finds (getenv in the
// binary; a map in tests).
base::Result<void> apply_environment(ServeSettings& settings, const EnvironmentLookup& lookup);

// Refuses a SWITCHBOARD_* variable name that is not a setting (a typo such
// as SWITCHBOARD_SERVER_PROT would otherwise be ignored), naming it and the
// closest setting. `names` are every variable's name in the environment;
// other prefixes and the few SWITCHBOARD_* names that are not settings
// (SWITCHBOARD_CONFIG, SWITCHBOARD_BIN) pass.
base::Result<void> check_environment_names(const std::vector<std::string>& names);

// Checks what no single key can: the broker URL's scheme, namespace
// patterns, the HMAC secret against its algorithm (auth::check_hmac_secret,
// as the server and `switchboard token` do), keys that contradict each other.
base::Result<void> validate(const ServeSettings& settings);

// hub.send_permission's text ("authenticated", "anyone", "token") as the
// hub's setting; nullopt for anything else (validate() says so).
std::optional<SendPermission> send_permission_from_name(std::string_view name);

// "chat:*=presence,join_leave" (the --namespace flag) -> options; the
// error names --namespace and the pattern or word it refuses.
base::Result<NamespaceOptions> parse_namespace_flag(std::string_view text);

// Reads the key files named in settings into settings->hub.auth; the error
// names the key whose file cannot be read or is empty.
base::Result<void> load_key_files(ServeSettings* settings);

// The effective settings as a TOML document (serve --print-config). A secret
// that is set is printed as its reference ({ env = "VARIABLE" }, { file =
// "PATH" }), which reads back to the same value, or, when it was written out
// in a file or a flag, as { redacted = "from FILE" }, which reads back as an
// error naming the key: the copy never silently loses a secret.
std::string to_toml(const ServeSettings& settings);
// The keys to_toml writes as { redacted = ... }, in table order.
std::vector<std::string> redacted_secrets(const ServeSettings& settings);
// One key's value as TOML ("8080", "\"0.0.0.0\"", "[]").
std::string value_as_toml(const ServeSettings& settings, std::string_view key);

}  // namespace switchboard::cli
