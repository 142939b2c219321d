#include "cli/namespace_options.h"

#include <cstdint>
#include <vector>

#include "cli/serve_settings.h"
#include "cli/setting_keys.h"
#include "cli/setting_names.h"
#include "protocol/names.h"

namespace switchboard::cli {
namespace {

constexpr std::int64_t kMaxSlowConsumerBacklog = 100'000;

base::Result<void> read_string(const toml::node& node, std::string& out) {
  if (!node.is_string()) return base::Error("must be a string");
  out = node.value<std::string>().value();
  return {};
}

base::Result<void> read_bool(const toml::node& node, bool& out) {
  if (!node.is_boolean()) return base::Error("must be true or false");
  out = node.value<bool>().value();
  return {};
}

template <typename Unsigned>
base::Result<void> read_unsigned(const toml::node& node, Unsigned& out) {
  if (!node.is_integer() || node.value<std::int64_t>().value() < 0) {
    return base::Error("must be a non-negative integer");
  }
  out = static_cast<Unsigned>(node.value<std::int64_t>().value());
  return {};
}

std::string print_bool(bool value) { return value ? "true" : "false"; }

// The keys of a [[namespaces]] table, in the order --print-config writes them.
struct NamespaceKey {
  std::string_view name;
  // Reads node into options; the error is what is wrong with it ("must be ...").
  base::Result<void> (*read)(const toml::node& node, NamespaceOptions& options);
  std::string (*print)(const NamespaceOptions& options);
};

const NamespaceKey kNamespaceKeys[] = {
    {"pattern", [](const toml::node& node, NamespaceOptions& options) { return read_string(node, options.pattern); },
     [](const NamespaceOptions& options) { return toml_string(options.pattern); }},
    {"presence", [](const toml::node& node, NamespaceOptions& options) { return read_bool(node, options.presence); },
     [](const NamespaceOptions& options) { return print_bool(options.presence); }},
    {"join_leave",
     [](const toml::node& node, NamespaceOptions& options) { return read_bool(node, options.join_leave); },
     [](const NamespaceOptions& options) { return print_bool(options.join_leave); }},
    {"client_publish",
     [](const toml::node& node, NamespaceOptions& options) { return read_bool(node, options.client_publish); },
     [](const NamespaceOptions& options) { return print_bool(options.client_publish); }},
    {"slow_consumer",
     [](const toml::node& node, NamespaceOptions& options) -> base::Result<void> {
       const auto policy = slow_consumer_policy_from_toml(node.value<std::string>().value_or(""));
       if (!policy) return base::Error("must be " + slow_consumer_policy_toml_choices());
       options.slow_consumer = *policy;
       return {};
     },
     [](const NamespaceOptions& options) {
       return "\"" + std::string(slow_consumer_policy_toml_name(options.slow_consumer)) + "\"";
     }},
    {"slow_consumer_backlog",
     [](const toml::node& node, NamespaceOptions& options) -> base::Result<void> {
       if (!node.is_integer() || node.value<std::int64_t>().value() < 1 ||
           node.value<std::int64_t>().value() > kMaxSlowConsumerBacklog) {
         return base::Error("must be an integer from 1 to " + std::to_string(kMaxSlowConsumerBacklog));
       }
       options.slow_consumer_backlog = static_cast<std::uint32_t>(node.value<std::int64_t>().value());
       return {};
     },
     [](const NamespaceOptions& options) { return std::to_string(options.slow_consumer_backlog); }},
    {"publish_per_s",
     [](const toml::node& node, NamespaceOptions& options) { return read_unsigned(node, options.publish_per_s); },
     [](const NamespaceOptions& options) { return std::to_string(options.publish_per_s); }},
    {"publish_burst",
     [](const toml::node& node, NamespaceOptions& options) { return read_unsigned(node, options.publish_burst); },
     [](const NamespaceOptions& options) { return std::to_string(options.publish_burst); }},
    {"history_size",
     [](const toml::node& node, NamespaceOptions& options) { return read_unsigned(node, options.history_size); },
     [](const NamespaceOptions& options) { return std::to_string(options.history_size); }},
    {"history_ttl",
     [](const toml::node& node, NamespaceOptions& options) { return read_unsigned(node, options.history_ttl_s); },
     [](const NamespaceOptions& options) { return std::to_string(options.history_ttl_s); }},
    {"recover_limit",
     [](const toml::node& node, NamespaceOptions& options) { return read_unsigned(node, options.recover_limit); },
     [](const NamespaceOptions& options) { return std::to_string(options.recover_limit); }},
    {"cache", [](const toml::node& node, NamespaceOptions& options) { return read_bool(node, options.cache); },
     [](const NamespaceOptions& options) { return print_bool(options.cache); }},
};

// The words of --namespace that take a number: history_size:N and so on.
struct NamespaceNumberWord {
  std::string_view word;
  std::uint64_t NamespaceOptions::*field;
};

const NamespaceNumberWord kNamespaceNumberWords[] = {
    {"history_size", &NamespaceOptions::history_size},
    {"history_ttl", &NamespaceOptions::history_ttl_s},
    {"recover_limit", &NamespaceOptions::recover_limit},
};

// The history keys go together: a stream needs both bounds.
base::Result<void> check_history(const NamespaceOptions& options) {
  if ((options.history_size > 0) != (options.history_ttl_s > 0)) {
    return base::Error("history_size and history_ttl go together: both > 0 keep history, both 0 keep none");
  }
  if (options.cache && !options.keeps_history()) return base::Error("cache needs history_size and history_ttl > 0");
  return {};
}

// The words of --namespace 'PATTERN=word,word' besides the slow-consumer
// policies (kSlowConsumerPolicyNames' flag words).
struct NamespaceFlagWord {
  std::string_view word;
  void (*apply)(NamespaceOptions& options);
};

const NamespaceFlagWord kNamespaceFlagWords[] = {
    {"presence", [](NamespaceOptions& options) { options.presence = true; }},
    {"join_leave",
     [](NamespaceOptions& options) {
       options.presence = true;
       options.join_leave = true;
     }},
    {"no_client_publish", [](NamespaceOptions& options) { options.client_publish = false; }},
    {"cache", [](NamespaceOptions& options) { options.cache = true; }},
};

std::string flag_words() {
  std::string words;
  for (const NamespaceFlagWord& entry : kNamespaceFlagWords)
    words += (words.empty() ? "" : ", ") + std::string(entry.word);
  for (const SlowConsumerPolicyName& entry : kSlowConsumerPolicyNames) {
    if (!entry.flag.empty()) words += ", " + std::string(entry.flag);
  }
  for (const NamespaceNumberWord& entry : kNamespaceNumberWords) words += ", " + std::string(entry.word) + ":N";
  return words;
}

std::string key_names() {
  std::string names;
  for (const NamespaceKey& key : kNamespaceKeys) names += (names.empty() ? "" : ", ") + std::string(key.name);
  return names;
}

}  // namespace

base::Result<NamespaceOptions> namespace_from_toml(const toml::table& table, std::size_t index,
                                                   std::string_view source) {
  const std::string where = "namespaces[" + std::to_string(index) + "]";
  NamespaceOptions options;
  for (const auto& [name, node] : table) {
    const std::string key = where + "." + std::string(name.str());
    const NamespaceKey* found = nullptr;
    for (const NamespaceKey& candidate : kNamespaceKeys) {
      if (candidate.name == name.str()) found = &candidate;
    }
    if (found == nullptr) return base::Error(problem(source, key, "unknown key (" + key_names() + ")"));
    if (const base::Result<void> read = found->read(node, options); !read) {
      return base::Error(problem(source, key, read.error()));
    }
  }
  if (options.pattern.empty()) return base::Error(problem(source, where + ".pattern", "is required"));
  if (const base::Result<void> history = check_history(options); !history) {
    return base::Error(problem(source, where, history.error()));
  }
  // join/leave events come from the presence table.
  if (options.join_leave) options.presence = true;
  return options;
}

std::string namespace_as_toml(const NamespaceOptions& options) {
  std::string out = "[[namespaces]]\n";
  for (const NamespaceKey& key : kNamespaceKeys) out += std::string(key.name) + " = " + key.print(options) + "\n";
  return out;
}

base::Result<NamespaceOptions> parse_namespace_flag(std::string_view text) {
  const std::size_t equals = text.find('=');
  NamespaceOptions options;
  options.pattern = std::string(text.substr(0, equals));
  if (const base::Result<void> checked = check_pattern(options.pattern); !checked) {
    return base::Error("--namespace: " + checked.error());
  }
  const std::string_view words = equals == std::string_view::npos ? std::string_view() : text.substr(equals + 1);
  for (const std::string& word : split_list(words)) {
    bool known = false;
    for (const NamespaceFlagWord& entry : kNamespaceFlagWords) {
      if (entry.word == word) {
        entry.apply(options);
        known = true;
      }
    }
    if (const auto policy = slow_consumer_policy_from_flag(word)) {
      options.slow_consumer = *policy;
      known = true;
    }
    const std::size_t colon = word.find(':');
    for (const NamespaceNumberWord& entry : kNamespaceNumberWords) {
      if (colon == std::string::npos || word.compare(0, colon, entry.word) != 0 || colon != entry.word.size()) continue;
      const std::string digits = word.substr(colon + 1);
      if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string::npos) {
        return base::Error("--namespace: " + std::string(entry.word) + " needs a number: " + word);
      }
      options.*entry.field = std::stoull(digits);
      known = true;
    }
    if (!known) return base::Error("--namespace: unknown option '" + word + "' (" + flag_words() + ")");
  }
  if (const base::Result<void> history = check_history(options); !history) {
    return base::Error("--namespace " + options.pattern + ": " + history.error());
  }
  return options;
}

base::Result<void> check_pattern(std::string_view pattern) {
  if (pattern == "*") return {};
  std::string_view name = pattern;
  if (name.size() >= 2 && name.substr(name.size() - 2) == ":*") name.remove_suffix(2);
  if (!protocol::is_valid_channel(name)) {
    return base::Error("pattern '" + std::string(pattern) +
                       "' must be a channel name, a namespace followed by :*, or *");
  }
  return {};
}

}  // namespace switchboard::cli
