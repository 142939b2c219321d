#include "cli/secret_reference.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "redis/endpoint.h"

namespace switchboard::cli {
namespace {

constexpr std::string_view kSecretForms = R"(must be a string, { env = "VARIABLE" } or { file = "PATH" })";

// The whole file is the secret, but for the newline an editor or `echo`
// leaves at its end.
base::Result<std::string> read_secret_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return base::Error("cannot read '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  std::string secret = text.str();
  if (secret.ends_with('\n')) secret.pop_back();
  if (secret.ends_with('\r')) secret.pop_back();
  if (secret.empty()) return base::Error("'" + path + "' is empty");
  return secret;
}

}  // namespace

void note_secret_source(ServeSettings& settings, std::string_view key, const std::string& value,
                        SecretSource::Kind kind, std::string_view name) {
  if (value.empty()) {
    settings.secret_sources.erase(std::string(key));
  } else {
    settings.secret_sources[std::string(key)] = SecretSource{kind, std::string(name)};
  }
}

base::Result<void> apply_secret_node(ServeSettings& settings, const SettingField& field, const toml::node& node,
                                     std::string_view source, const EnvironmentLookup& lookup) {
  const std::string_view key = field.info.key;
  const auto fail = [&](std::string_view what) { return base::Error(problem(source, key, what)); };
  std::string& value = *std::get<std::string*>(field.ref(settings));
  if (node.is_string()) {
    value = node.value<std::string>().value();
    note_secret_source(settings, key, value, SecretSource::Kind::kValue, source);
    return {};
  }
  const toml::table* table = node.as_table();
  if (table == nullptr || table->size() != 1) return fail(kSecretForms);
  const auto entry = table->begin();  // it holds the pair it hands out
  const std::string_view form = entry->first.str();
  const toml::node& reference_node = entry->second;
  if (form == "redacted") {
    return fail("not printed by --print-config (" + reference_node.value<std::string>().value_or("a secret") +
                "): write the value here, or { env = \"VARIABLE\" } or { file = \"PATH\" }");
  }
  if (!reference_node.is_string() || (form != "env" && form != "file")) return fail(kSecretForms);
  const std::string reference = reference_node.value<std::string>().value();
  std::string secret;
  if (form == "env") {
    const char* text = lookup ? lookup(reference.c_str()) : std::getenv(reference.c_str());
    if (text == nullptr) return fail("the environment variable " + reference + " is not set");
    secret = text;
    if (secret.empty()) return fail("the environment variable " + reference + " is empty");
  } else {
    base::Result<std::string> read = read_secret_file(reference);
    if (!read) return fail(read.error());
    secret = *std::move(read);
  }
  value = std::move(secret);
  note_secret_source(settings, key, value, form == "env" ? SecretSource::Kind::kEnvironment : SecretSource::Kind::kFile,
                     reference);
  return {};
}

bool printed_as_reference(ServeSettings& settings, const SettingField& field) {
  if (!field.info.secret) return false;
  const std::string& value = *std::get<std::string*>(field.ref(settings));
  if (value.empty()) return false;
  return field.info.key != std::string_view("broker.url") || redis::redact_redis_url(value) != value;
}

std::string secret_reference(const ServeSettings& settings, std::string_view key) {
  const auto found = settings.secret_sources.find(key);
  const SecretSource source = found == settings.secret_sources.end() ? SecretSource{} : found->second;
  std::string out = "{ ";
  switch (source.kind) {
    case SecretSource::Kind::kEnvironment:
      out += "env = " + toml_string(source.name);
      break;
    case SecretSource::Kind::kFile:
      out += "file = " + toml_string(source.name);
      break;
    case SecretSource::Kind::kValue:
      out += "redacted = " + toml_string(source.name.empty() ? "not printed" : "from " + source.name);
      break;
  }
  return out + " }";
}

std::vector<std::string> redacted_secrets(const ServeSettings& settings) {
  ServeSettings copy = settings;  // setting_fields() hands out mutable references
  std::vector<std::string> keys;
  for (const SettingField& field : setting_fields()) {
    if (!printed_as_reference(copy, field)) continue;
    const auto source = settings.secret_sources.find(field.info.key);
    if (source == settings.secret_sources.end() || source->second.kind == SecretSource::Kind::kValue) {
      keys.emplace_back(field.info.key);
    }
  }
  return keys;
}

}  // namespace switchboard::cli
