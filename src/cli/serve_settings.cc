#include "cli/serve_settings.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <variant>

#include <toml++/toml.h>

#include "auth/algorithm.h"
#include "auth/key_check.h"
#include "broker/broker_factory.h"
#include "cli/did_you_mean.h"
#include "cli/namespace_options.h"
#include "cli/secret_reference.h"
#include "cli/setting_keys.h"
#include "cli/setting_names.h"
#include "redis/endpoint.h"
#include "server/forwarded.h"

namespace switchboard::cli {
namespace {

constexpr std::string_view kEnvironmentPrefix = "SWITCHBOARD_";
// SWITCHBOARD_* names that are not settings, yet are set for a reason:
//   SWITCHBOARD_CONFIG  serve reads the config file's path from it
//   SWITCHBOARD_BIN     the test harnesses (ctest, the JS SDK's) name the
//                       binary under test, and pass their environment on to
//                       the servers they start
constexpr std::string_view kNotSettings[] = {"SWITCHBOARD_CONFIG", "SWITCHBOARD_BIN"};
constexpr std::string_view kLogLevels[] = {"debug", "info", "warn", "error", "off"};
constexpr std::string_view kLogFormats[] = {"text", "json"};

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
base::Result<void> store_unsigned(ServeSettings& settings, const SettingField& field, std::uint64_t value,
                                  std::string_view source) {
  if (value < field.info.min || value > field.info.max) {
    std::string range = "must be at least " + std::to_string(field.info.min);
    if (field.info.max != kNoMax) range += " and at most " + std::to_string(field.info.max);
    return base::Error(problem(source, field.info.key, range + " (got " + std::to_string(value) + ")"));
  }
  return std::visit(
      [&](auto* target) -> base::Result<void> {
        using Target = std::remove_pointer_t<decltype(target)>;
        if constexpr (std::is_same_v<Target, std::uint64_t> || std::is_same_v<Target, std::uint16_t> ||
                      std::is_same_v<Target, unsigned>) {
          *target = static_cast<Target>(value);
          return {};
        } else {
          return base::Error(problem(source, field.info.key, "is not a number"));
        }
      },
      field.ref(settings));
}

base::Result<void> apply_node(ServeSettings& settings, const SettingField& field, const toml::node& node,
                              std::string_view source, const EnvironmentLookup& lookup) {
  if (field.info.secret) return apply_secret_node(settings, field, node, source, lookup);
  switch (field.info.type) {
    case KeyType::kString:
      if (!node.is_string()) return base::Error(problem(source, field.info.key, "must be a string"));
      *std::get<std::string*>(field.ref(settings)) = node.value<std::string>().value();
      return {};
    case KeyType::kBool:
      if (!node.is_boolean()) return base::Error(problem(source, field.info.key, "must be true or false"));
      *std::get<bool*>(field.ref(settings)) = node.value<bool>().value();
      return {};
    case KeyType::kUnsigned: {
      if (!node.is_integer()) return base::Error(problem(source, field.info.key, "must be an integer"));
      const std::int64_t value = node.value<std::int64_t>().value();
      if (value < 0) return base::Error(problem(source, field.info.key, "must not be negative"));
      return store_unsigned(settings, field, static_cast<std::uint64_t>(value), source);
    }
    case KeyType::kStringList: {
      const toml::array* array = node.as_array();
      if (array == nullptr) return base::Error(problem(source, field.info.key, "must be an array of strings"));
      std::vector<std::string> items;
      for (const toml::node& item : *array) {
        if (!item.is_string()) return base::Error(problem(source, field.info.key, "must be an array of strings"));
        items.push_back(item.value<std::string>().value());
      }
      *std::get<std::vector<std::string>*>(field.ref(settings)) = std::move(items);
      return {};
    }
  }
  return base::Error(problem(source, field.info.key, "unsupported type"));
}

// Every key's name as `name_of` spells it, in table order, for did_you_mean.
std::vector<std::string> setting_names(std::string (*name_of)(std::string_view key)) {
  std::vector<std::string> names;
  for (const SettingField& field : setting_fields()) names.push_back(name_of(field.info.key));
  return names;
}

}  // namespace

std::string value_as_toml(const ServeSettings& settings, std::string_view key) {
  const SettingField* field = find_setting_field(key);
  if (field == nullptr) return "";
  ServeSettings copy = settings;
  return toml_value(field->ref(copy));
}

std::string environment_name(std::string_view key) {
  std::string name(kEnvironmentPrefix);
  for (char c : key) name.push_back(c == '.' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c));
  return name;
}

base::Result<void> apply_text(ServeSettings& settings, std::string_view key, std::string_view text,
                              std::string_view source) {
  const SettingField* field = find_setting_field(key);
  if (field == nullptr) return base::Error(problem(source, key, "unknown key"));
  switch (field->info.type) {
    case KeyType::kString:
      *std::get<std::string*>(field->ref(settings)) = std::string(text);
      if (field->info.secret) note_secret_source(settings, key, std::string(text), SecretSource::Kind::kValue, source);
      return {};
    case KeyType::kBool: {
      bool value = false;
      if (!parse_bool(text, &value)) return base::Error(problem(source, key, "must be true or false"));
      *std::get<bool*>(field->ref(settings)) = value;
      return {};
    }
    case KeyType::kUnsigned: {
      std::uint64_t value = 0;
      if (!parse_unsigned(text, &value)) return base::Error(problem(source, key, "must be a non-negative integer"));
      return store_unsigned(settings, *field, value, source);
    }
    case KeyType::kStringList:
      *std::get<std::vector<std::string>*>(field->ref(settings)) = split_list(text);
      return {};
  }
  return base::Error(problem(source, key, "unsupported type"));
}

base::Result<void> apply_toml(ServeSettings& settings, std::string_view toml_text, std::string_view source_name,
                              const EnvironmentLookup& lookup) {
  toml::table document;
  try {
    document = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& error) {
    return base::Error(std::string(source_name) + ":" + std::to_string(error.source().begin.line) + ": " +
                       std::string(error.description()));
  }
  for (const auto& [section_name, section] : document) {
    const std::string section_key(section_name.str());
    if (section_key == "namespaces") {
      const toml::array* tables = section.as_array();
      if (tables == nullptr) return base::Error(problem(source_name, "namespaces", "must be [[namespaces]] tables"));
      std::vector<NamespaceOptions> namespaces;
      for (std::size_t i = 0; i < tables->size(); ++i) {
        const toml::table* table = (*tables)[i].as_table();
        if (table == nullptr) return base::Error(problem(source_name, "namespaces", "must be [[namespaces]] tables"));
        base::Result<NamespaceOptions> options = namespace_from_toml(*table, i, source_name);
        if (!options) return base::Error(options.error());
        namespaces.push_back(*std::move(options));
      }
      settings.hub.namespaces = std::move(namespaces);
      continue;
    }
    const toml::table* table = section.as_table();
    if (table == nullptr)
      return base::Error(problem(source_name, section_key, "must be a [" + section_key + "] table"));
    for (const auto& [name, node] : *table) {
      const std::string key = section_key + "." + std::string(name.str());
      const SettingField* field = find_setting_field(key);
      if (field == nullptr) {
        const std::string hint =
            did_you_mean(closest_name(key, setting_names([](std::string_view name) { return std::string(name); })));
        return base::Error(
            problem(source_name, key, "unknown key (see docs/CONFIG.md)" + (hint.empty() ? "" : "; " + hint)));
      }
      if (base::Result<void> applied = apply_node(settings, *field, node, source_name, lookup); !applied) {
        return applied;
      }
    }
  }
  return {};
}

base::Result<void> apply_environment(ServeSettings& settings, const EnvironmentLookup& lookup) {
  for (const SettingField& field : setting_fields()) {
    const std::string name = environment_name(field.info.key);
    if (const char* value = lookup(name.c_str())) {
      if (base::Result<void> applied = apply_text(settings, field.info.key, value, name); !applied) return applied;
      if (field.info.secret) {
        note_secret_source(settings, field.info.key, value, SecretSource::Kind::kEnvironment, name);
      }
    }
  }
  return {};
}

base::Result<void> check_environment_names(const std::vector<std::string>& names) {
  const std::vector<std::string> settings = setting_names(environment_name);
  for (const std::string& name : names) {
    if (!name.starts_with(kEnvironmentPrefix)) continue;
    if (std::find(std::begin(kNotSettings), std::end(kNotSettings), name) != std::end(kNotSettings)) continue;
    if (std::find(settings.begin(), settings.end(), name) != settings.end()) continue;
    const std::string hint = did_you_mean(closest_name(name, settings));
    return base::Error(name + ": not a setting" + (hint.empty() ? "" : " (" + hint + ")") +
                       "; settings are SWITCHBOARD_<SECTION>_<KEY> as listed in docs/CONFIG.md");
  }
  return {};
}

base::Result<void> validate(const ServeSettings& settings) {
  broker::BrokerSettings broker;
  broker.url = settings.broker_url;
  broker.cluster = settings.hub.broker_cluster;
  if (base::Result<void> checked = broker::check_broker_settings(broker); !checked) return checked;
  for (const NamespaceOptions& options : settings.hub.namespaces) {
    if (const base::Result<void> checked = check_pattern(options.pattern); !checked) {
      return base::Error("namespaces: " + checked.error());
    }
  }
  const std::string& level = settings.log_level;
  if (std::find(std::begin(kLogLevels), std::end(kLogLevels), level) == std::end(kLogLevels)) {
    return base::Error("log.level: '" + level + "' is not " + one_of(kLogLevels));
  }
  if (const auto trusted = server::AddressSet::parse(settings.server.trusted_proxies); !trusted) {
    return base::Error("server.trusted_proxies: " + trusted.error());
  }
  if (std::find(std::begin(kLogFormats), std::end(kLogFormats), settings.log_format) == std::end(kLogFormats)) {
    return base::Error("log.format: '" + settings.log_format + "' is not " + one_of(kLogFormats));
  }
  const AuthConfig& auth = settings.hub.auth;
  if (auth.required && auth.hmac_secret.empty() && settings.public_key_file.empty() && settings.jwks_file.empty()) {
    return base::Error("auth.required: needs a key: auth.hmac_secret, auth.public_key_file or auth.jwks_file");
  }
  if (!auth.hmac_secret.empty()) {
    const std::optional<auth::Algorithm> algorithm = auth::algorithm_from_name(auth.hmac_algorithm);
    if (!algorithm) return base::Error("auth.hmac_algorithm: unknown algorithm '" + auth.hmac_algorithm + "'");
    if (const base::Result<void> checked = auth::check_hmac_secret(*algorithm, auth.hmac_secret); !checked) {
      return base::Error("auth.hmac_secret: " + checked.error());
    }
  }
  if (settings.insecure_user_query && auth.required && !settings.insecure_user_query_bypasses_auth) {
    return base::Error(
        "dev.insecure_user_query: with auth.required, ?user=NAME connects as NAME without a token, which "
        "defeats auth.required; drop one of the two, or set dev.insecure_user_query_bypasses_auth = true "
        "(--insecure-user-query-bypasses-auth) if that is really meant");
  }
  if (!auth.hmac_secret.empty() && !settings.public_key_file.empty()) {
    return base::Error(
        "auth.public_key_file: give either auth.hmac_secret or a public key for tokens without a kid, not both");
  }
  if (!send_permission_from_name(settings.send_permission)) {
    return base::Error("hub.send_permission: '" + settings.send_permission + "' is not " + send_permission_choices());
  }
  if (settings.tls_min_version != "1.2" && settings.tls_min_version != "1.3") {
    return base::Error("server.tls_min_version: '" + settings.tls_min_version + "' is not 1.2 or 1.3");
  }
  const ServerConfig& server = settings.server;
  if (server.tls_cert_file.empty() != server.tls_key_file.empty()) {
    return base::Error(server.tls_cert_file.empty() ? "server.tls_key_file: needs server.tls_cert_file"
                                                    : "server.tls_cert_file: needs server.tls_key_file");
  }
  if (settings.tls_port != 0 && server.tls_cert_file.empty()) {
    return base::Error("server.tls_port: needs server.tls_cert_file and server.tls_key_file");
  }
  const std::string& client_auth = settings.tls_client_auth;
  if (client_auth != "none" && client_auth != "optional" && client_auth != "required") {
    return base::Error("server.tls_client_auth: '" + client_auth + "' is not none, optional or required");
  }
  if (client_auth != "none" && server.tls_ca_file.empty()) {
    return base::Error("server.tls_client_auth: " + client_auth + " needs server.tls_ca_file");
  }
  if (client_auth != "none" && server.tls_cert_file.empty()) {
    return base::Error("server.tls_client_auth: needs server.tls_cert_file and server.tls_key_file");
  }
  if (settings.tls_port != 0 && settings.tls_port == server.port) {
    return base::Error("server.tls_port: must differ from server.port (" + std::to_string(server.port) + ")");
  }
  const std::string& proxy = settings.rpc_proxy_url;
  if (!proxy.empty() && !proxy.starts_with("http://") && !proxy.starts_with("https://")) {
    return base::Error("hub.rpc_proxy_url: '" + proxy + "' is not an http:// or https:// URL");
  }
  return {};
}

base::Result<void> load_key_files(ServeSettings* settings) {
  const auto read = [](const std::string& path, std::string_view key, std::string* out) -> base::Result<void> {
    if (path.empty()) {
      out->clear();
      return {};
    }
    std::ifstream file(path);
    if (!file) return base::Error(std::string(key) + ": cannot read '" + path + "'");
    std::ostringstream text;
    text << file.rdbuf();
    *out = text.str();
    if (out->empty()) return base::Error(std::string(key) + ": '" + path + "' is empty");
    return {};
  };
  if (base::Result<void> read_pem =
          read(settings->public_key_file, "auth.public_key_file", &settings->hub.auth.public_key_pem);
      !read_pem) {
    return read_pem;
  }
  return read(settings->jwks_file, "auth.jwks_file", &settings->hub.auth.jwks_json);
}

std::string to_toml(const ServeSettings& settings) {
  ServeSettings copy = settings;  // setting_fields() hands out mutable references
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
  for (const SettingField& field : setting_fields()) {
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
    out += name + " = " + toml_value(field.ref(copy)) + "\n";
  }
  for (const NamespaceOptions& options : settings.hub.namespaces) out += "\n" + namespace_as_toml(options);
  return out;
}

}  // namespace switchboard::cli
