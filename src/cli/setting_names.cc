#include "cli/setting_names.h"

#include <cstddef>
#include <vector>

#include "cli/serve_settings.h"

namespace switchboard::cli {
namespace {

// The first entry of table that `matches`; nullptr when none does.
template <typename Entry, std::size_t kSize, typename Matches>
const Entry* find_entry(const Entry (&table)[kSize], Matches matches) {
  for (const Entry& entry : table) {
    if (matches(entry)) return &entry;
  }
  return nullptr;
}

}  // namespace

std::optional<SlowConsumerPolicy> slow_consumer_policy_from_toml(std::string_view name) {
  const auto* entry = find_entry(kSlowConsumerPolicyNames, [&](const auto& e) { return e.toml == name; });
  return entry ? std::optional(entry->policy) : std::nullopt;
}

std::optional<SlowConsumerPolicy> slow_consumer_policy_from_flag(std::string_view name) {
  const auto* entry =
      find_entry(kSlowConsumerPolicyNames, [&](const auto& e) { return !e.flag.empty() && e.flag == name; });
  return entry ? std::optional(entry->policy) : std::nullopt;
}

std::string_view slow_consumer_policy_toml_name(SlowConsumerPolicy policy) {
  const auto* entry = find_entry(kSlowConsumerPolicyNames, [&](const auto& e) { return e.policy == policy; });
  return entry ? entry->toml : kSlowConsumerPolicyNames[0].toml;
}

std::string slow_consumer_policy_toml_choices() {
  std::vector<std::string_view> words;
  for (const SlowConsumerPolicyName& entry : kSlowConsumerPolicyNames) words.push_back(entry.toml);
  return one_of(words, "\"");
}

std::optional<SendPermission> send_permission_from_name(std::string_view name) {
  const auto* entry = find_entry(kSendPermissionNames, [&](const auto& e) { return e.name == name; });
  return entry ? std::optional(entry->permission) : std::nullopt;
}

std::string_view send_permission_name(SendPermission permission) {
  const auto* entry = find_entry(kSendPermissionNames, [&](const auto& e) { return e.permission == permission; });
  return entry ? entry->name : kSendPermissionNames[0].name;
}

std::string send_permission_choices() {
  std::vector<std::string_view> words;
  for (const SendPermissionName& entry : kSendPermissionNames) words.push_back(entry.name);
  return one_of(words);
}

}  // namespace switchboard::cli
