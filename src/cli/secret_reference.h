// Secrets among serve's settings (api.key, auth.hmac_secret, a broker URL
// with a password): in the file each may be written out or given by
// reference, { env = "VARIABLE" } or { file = "PATH" }; where each came from
// is remembered (ServeSettings::secret_sources) so that --print-config
// writes the reference back instead of the value, or { redacted = ... }
// when there is no reference to write.
#pragma once

#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "base/result.h"
#include "cli/serve_settings.h"
#include "cli/setting_keys.h"

namespace switchboard::cli {

// Records (or, for an empty value, forgets) where key's value came from.
void note_secret_source(ServeSettings& settings, std::string_view key, const std::string& value,
                        SecretSource::Kind kind, std::string_view name);

// A secret key's node in the file: a string, { env = "VARIABLE" } or
// { file = "PATH" } (the whole file but its final newline). A { redacted =
// ... } that --print-config wrote is refused, naming the key. lookup
// resolves env (empty: getenv). The error is problem()'s "SOURCE: KEY: WHAT".
base::Result<void> apply_secret_node(ServeSettings& settings, const SettingField& field, const toml::node& node,
                                     std::string_view source, const EnvironmentLookup& lookup);

// Whether --print-config writes field as a reference rather than its
// value: a secret that is set, and a broker URL only when it holds a password.
bool printed_as_reference(ServeSettings& settings, const SettingField& field);

// { env = 'NAME' }, { file = 'PATH' } or { redacted = 'from FILE' }.
std::string secret_reference(const ServeSettings& settings, std::string_view key);

}  // namespace switchboard::cli
