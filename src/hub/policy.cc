#include "hub/policy.h"

#include <utility>

#include "protocol/names.h"

namespace switchboard::hub {

const NamespaceOptions& Policy::options_for(std::string_view channel) const {
  for (const NamespaceOptions& options : namespaces) {
    if (protocol::channel_matches(options.pattern, channel)) return options;
  }
  return default_namespace;
}

base::Result<std::shared_ptr<const Policy>> make_policy(const HubConfig& config) {
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
