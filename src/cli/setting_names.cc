#include "cli/setting_names.h"

#include <vector>

#include "cli/serve_settings.h"

namespace switchboard::cli {

std::optional<SlowConsumerPolicy> slow_consumer_policy_from_toml(std::string_view name) {
  for (const SlowConsumerPolicyName& entry : kSlowConsumerPolicyNames) {
    if (entry.toml == name) return entry.policy;
  }
  return std::nullopt;
}

std::optional<SlowConsumerPolicy> slow_consumer_policy_from_flag(std::string_view name) {
  for (const SlowConsumerPolicyName& entry : kSlowConsumerPolicyNames) {
    if (!entry.flag.empty() && entry.flag == name) return entry.policy;
  }
  return std::nullopt;
}

std::string_view slow_consumer_policy_toml_name(SlowConsumerPolicy policy) {
  for (const SlowConsumerPolicyName& entry : kSlowConsumerPolicyNames) {
    if (entry.policy == policy) return entry.toml;
  }
  return kSlowConsumerPolicyNames[0].toml;
}

std::string slow_consumer_policy_toml_choices() {
  std::vector<std::string_view> words;
  for (const SlowConsumerPolicyName& entry : kSlowConsumerPolicyNames) words.push_back(entry.toml);
  return one_of(words, "\"");
}

std::optional<SendPermission> send_permission_from_name(std::string_view name) {
  for (const SendPermissionName& entry : kSendPermissionNames) {
    if (entry.name == name) return entry.permission;
  }
  return std::nullopt;
}

std::string_view send_permission_name(SendPermission permission) {
  for (const SendPermissionName& entry : kSendPermissionNames) {
    if (entry.permission == permission) return entry.name;
  }
  return kSendPermissionNames[0].name;
}

std::string send_permission_choices() {
  std::vector<std::string_view> words;
  for (const SendPermissionName& entry : kSendPermissionNames) words.push_back(entry.name);
  return one_of(words);
}

}  // namespace switchboard::cli
