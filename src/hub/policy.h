// What SIGHUP can change without dropping a connection (Hub::reload): the
// token keys and checks, and the namespace options.
//
// Immutable once made; the node keeps the current one for threads that are
// not a worker's, and each worker's local role holds its own reference,
// swapped by a task posted to it, so the message paths read it without a
// lock or an atomic.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/token_verifier.h"
#include "switchboard/hub.h"

namespace switchboard::hub {

struct Policy {
  std::shared_ptr<const TokenVerifier> verifier;  // null: tokens are not checked
  bool auth_required = false;
  AuthConfig auth;  // what verifier and auth_required were made from (a reload compares)
  std::vector<NamespaceOptions> namespaces;
  NamespaceOptions default_namespace;

  // The first namespace whose pattern matches, else default_namespace.
  const NamespaceOptions& options_for(std::string_view channel) const;
};

// The policy config describes, or why its keys are unusable.
base::Result<std::shared_ptr<const Policy>> make_policy(const HubConfig& config);

}  // namespace switchboard::hub
