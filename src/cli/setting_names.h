// The words serve's settings use for the hub's enums, one table per enum:
// reading a setting and printing it (--print-config, error messages) both
// go through the table, so the two can never drift apart.
//
// A namespace's slow-consumer policy has two spellings, both documented in
// docs/CONFIG.md: the TOML key slow_consumer takes "drop-oldest", the
// --namespace flag takes "drop_oldest" (and "drop_slow" for "drop"; the
// flag has no word for "disconnect", the default). Neither form accepts the
// other's words: configs written today keep working, and nothing new is
// accepted.
#pragma once

#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/hub.h"

namespace switchboard::cli {

struct SlowConsumerPolicyName {
  SlowConsumerPolicy policy;
  std::string_view toml;  // [[namespaces]] slow_consumer = "..."; what --print-config writes
  std::string_view flag;  // --namespace 'PATTERN=...'; "" when the flag has no word for it
};
inline constexpr SlowConsumerPolicyName kSlowConsumerPolicyNames[] = {
    {SlowConsumerPolicy::kDisconnect, "disconnect", ""},
    {SlowConsumerPolicy::kDrop, "drop", "drop_slow"},
    {SlowConsumerPolicy::kDropOldest, "drop-oldest", "drop_oldest"},
    {SlowConsumerPolicy::kKeepLatest, "keep-latest", "keep_latest"},
};

// The TOML word; nullopt for any other text (a flag word included).
std::optional<SlowConsumerPolicy> slow_consumer_policy_from_toml(std::string_view name);
// The flag word; nullopt for any other text (a TOML word included).
std::optional<SlowConsumerPolicy> slow_consumer_policy_from_flag(std::string_view name);
std::string_view slow_consumer_policy_toml_name(SlowConsumerPolicy policy);
// "\"disconnect\", \"drop\", \"drop-oldest\" or \"keep-latest\"", for messages.
std::string slow_consumer_policy_toml_choices();

struct SendPermissionName {
  SendPermission permission;
  std::string_view name;  // hub.send_permission, in the file, the environment and the flag
};
inline constexpr SendPermissionName kSendPermissionNames[] = {
    {SendPermission::kAuthenticated, "authenticated"},
    {SendPermission::kAnyone, "anyone"},
    {SendPermission::kListedUsers, "token"},
};

std::string_view send_permission_name(SendPermission permission);
// "authenticated, anyone or token", for messages.
std::string send_permission_choices();

// "a, b or c" (each word wrapped in `quote`), for messages that list choices.
template <typename Words>
std::string one_of(const Words& words, std::string_view quote = "") {
  std::string out;
  std::size_t left = std::size(words);
  for (const auto& word : words) {
    out += std::string(quote) + std::string(word) + std::string(quote);
    --left;
    if (left > 1) out += ", ";
    if (left == 1) out += " or ";
  }
  return out;
}

}  // namespace switchboard::cli
