// The local role's rate limits (HubConfig::limits, NamespaceOptions::
// publish_per_s): token buckets per session, taken before a command runs;
// a client that keeps running into them is closed 1008.
#include <algorithm>
#include <string>

#include "base/clock.h"
#include "hub/node.h"

namespace switchboard::hub {
namespace {

// Takes one message and its bytes from the session's buckets.
bool within_limits(Session& session, const base::RateLimit& message_limit, const base::RateLimit& byte_limit,
                   std::size_t size) {
  if (!message_limit.enabled() && !byte_limit.enabled()) return true;
  const std::uint64_t now = base::monotonic_ms();
  const double bytes = std::min(static_cast<double>(size), byte_limit.burst);
  return session.message_bucket.try_take(message_limit, now, 1) && session.byte_bucket.try_take(byte_limit, now, bytes);
}

}  // namespace

bool LocalRole::admit(Session& session, std::string_view text) {
  if (within_limits(session, node_.message_limit, node_.byte_limit, text.size())) return true;
  // Answered with the command's id when it has one, so that the client can
  // tell which request was refused.
  protocol::Command command;
  protocol::CommandError error;
  const std::uint64_t id = parser_.parse(text, &command, &error) ? command.id : error.id;
  refuse_over_limit(session, id, "rate limit exceeded: the command was not run");
  return false;
}

bool LocalRole::admit_publish(Session& session, std::string_view channel, std::uint64_t id) {
  const NamespaceOptions& options = options_for(channel);
  if (options.publish_per_s == 0) return true;
  const base::RateLimit limit{
      static_cast<double>(options.publish_per_s),
      static_cast<double>(options.publish_burst != 0 ? options.publish_burst : options.publish_per_s)};
  auto bucket = std::find_if(session.publish_buckets.begin(), session.publish_buckets.end(),
                             [&](const auto& entry) { return entry.first == options.pattern; });
  if (bucket == session.publish_buckets.end()) {
    bucket = session.publish_buckets.insert(session.publish_buckets.end(), {options.pattern, {}});
  }
  if (bucket->second.try_take(limit, base::monotonic_ms(), 1)) return true;
  refuse_over_limit(session, id,
                    "rate limit exceeded: at most " + std::to_string(options.publish_per_s) +
                        " publishes a second to '" + options.pattern + "'");
  return false;
}

bool LocalRole::admit_ping(Session& session, std::string_view payload) {
  if (within_limits(session, node_.message_limit, node_.byte_limit, payload.size())) return true;
  // A ping has no id to answer an error to: the missing pong is the answer.
  tolerate_violation(session);
  return false;
}

void LocalRole::refuse_over_limit(Session& session, std::uint64_t id, std::string_view message) {
  if (tolerate_violation(session)) fail(session, id, protocol::ErrorCode::kRateLimited, message);
}

bool LocalRole::tolerate_violation(Session& session) {
  node_.metrics.rate_limited.add();
  if (session.violation_bucket.try_take(node_.violation_limit, base::monotonic_ms(), 1)) return true;
  node_.metrics.rate_limit_closes.add();
  session.connection->close(CloseCode::kPolicyViolation, "rate limit exceeded");
  return false;
}

}  // namespace switchboard::hub
