// Options per channel pattern (docs/CONFIG.md "Namespaces"), in their two
// forms: [[namespaces]] tables in the file and --namespace
// 'PATTERN=word,word' flags (serve_settings.h's parse_namespace_flag, which
// namespace_options.cc defines beside the table reader). Each form reads
// through one table (the keys of a table, the words of a flag) that also
// prints it, so --print-config writes exactly what the file reads back.
// The enum words are setting_names.h's.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "base/result.h"
#include "switchboard/hub.h"

namespace switchboard::cli {

// One [[namespaces]] table, the index-th of the file `source`. Unknown
// keys, values of the wrong type or range and a missing pattern are
// refused with "SOURCE: namespaces[I].KEY: WHAT". join_leave implies presence.
base::Result<NamespaceOptions> namespace_from_toml(const toml::table& table, std::size_t index,
                                                   std::string_view source);

// options as a [[namespaces]] table, every key written ("[[namespaces]]\n"
// then one "key = value\n" per key).
std::string namespace_as_toml(const NamespaceOptions& options);

// A pattern is a channel name, a namespace followed by ":*", or "*".
base::Result<void> check_pattern(std::string_view pattern);

}  // namespace switchboard::cli
