// serve's scalar keys in one table: each key's TOML name, flag, help,
// type, range and where its value lives in ServeSettings. The file, the
// environment, the flags, --print-config and docs/CONFIG.md all follow
// this table; [[namespaces]] tables are namespace_options.h's.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/serve_settings.h"

namespace switchboard::cli {

inline constexpr std::uint64_t kNoMax = std::numeric_limits<std::uint64_t>::max();

// Where a key's value lives in ServeSettings. (std::size_t is std::uint64_t here.)
using SettingRef =
    std::variant<std::string*, std::uint64_t*, std::uint16_t*, unsigned*, bool*, std::vector<std::string>*>;

struct SettingField {
  KeyInfo info;
  SettingRef (*ref)(ServeSettings&);
};

// In the order of docs/CONFIG.md and of --print-config.
const std::vector<SettingField>& setting_fields();
// nullptr for a key that is not in the table.
const SettingField* find_setting_field(std::string_view key);

// "SOURCE: KEY: WHAT", the one form of every settings error.
std::string problem(std::string_view source, std::string_view key, std::string_view what);

// "a, b,,c " -> {"a", "b", "c"}: a list in a flag or a variable (and the
// words of --namespace), blanks around items and empty items dropped.
std::vector<std::string> split_list(std::string_view text);

// text as a TOML string, quoted and escaped ('...' when it can be).
std::string toml_string(std::string_view text);
// A field's value as TOML ("8080", "\"0.0.0.0\"", "[]").
std::string toml_value(const SettingRef& ref);

}  // namespace switchboard::cli
