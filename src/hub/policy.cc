#include "hub/policy.h"

#include <string>
#include <utility>

#include "protocol/names.h"

namespace switchboard::hub {

const NamespaceOptions& Policy::options_for(std::string_view channel) const {
  for (const NamespaceOptions& options : namespaces) {
    if (protocol::channel_matches(options.pattern, channel)) return options;
  }
  return default_namespace;
}

namespace {

// A stream needs both bounds; `cache` needs a stream.
base::Result<void> check_history(const NamespaceOptions& options) {
  const std::string name = options.pattern.empty() ? "the default namespace" : "namespace " + options.pattern;
  if ((options.history_size > 0) != (options.history_ttl_s > 0)) {
    return base::Error(name + ": history_size and history_ttl go together (both > 0, or both 0)");
  }
  if (options.cache && !options.keeps_history()) return base::Error(name + ": cache needs history");
  return {};
}

}  // namespace

base::Result<std::shared_ptr<const Policy>> make_policy(const HubConfig& config) {
  for (const NamespaceOptions& options : config.namespaces) {
    if (auto checked = check_history(options); !checked) return base::Error(checked.error());
  }
  if (auto checked = check_history(config.default_namespace); !checked) return base::Error(checked.error());
  auto verifier = TokenVerifier::create(config.auth);
  if (!verifier) return base::Error(verifier.error());
  auto policy = std::make_shared<Policy>();
  policy->verifier = *std::move(verifier);
  policy->auth_required = config.auth.required;
  policy->auth = config.auth;
  policy->namespaces = config.namespaces;
  policy->default_namespace = config.default_namespace;
  return std::shared_ptr<const Policy>(std::move(policy));
}

}  // namespace switchboard::hub
