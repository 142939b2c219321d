// RedisBroker: presence across nodes (see redis_broker.h for the keys).
#include "broker/envelope.h"
#include "broker/redis_broker.h"
#include "broker/redis_broker_links.h"
#include "loop/event_loop.h"

namespace switchboard::broker {
namespace {

// now: Redis's clock, so nodes' clocks need not agree. KEYS[1]: the
// members hash, KEYS[2]: the nodes' expiries.
constexpr std::string_view kNowLua =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

// ARGV: node, field, value, ttl ms.
constexpr std::string_view kJoinScript =
    "redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])\n"
    "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[4])\n"
    "return 1\n";

// ARGV: node. The member JSON of every entry of the other live nodes.
constexpr std::string_view kListScript =
    "local live = {}\n"
    "for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], string.format('(%d', now), '+inf')) do\n"
    "  live[node] = true\n"
    "end\n"
    "live[ARGV[1]] = nil\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local out = {}\n"
    "for i = 1, #all, 2 do\n"
    "  local node = string.match(all[i], '^([^/]*)/')\n"
    "  if node and live[node] then\n"
    "    local newline = string.find(all[i + 1], '\\n', 1, true)\n"
    "    out[#out + 1] = newline and string.sub(all[i + 1], 1, newline - 1) or all[i + 1]\n"
    "  end\n"
    "end\n"
    "return out\n";

const std::string& join_script() {
  static const std::string script = std::string(kNowLua) + std::string(kJoinScript);
  return script;
}

const std::string& list_script() {
  static const std::string script = std::string(kNowLua) + std::string(kListScript);
  return script;
}

}  // namespace

// ARGV: node, ttl ms, the channel's Redis channel. Sweeps the nodes whose
// expiry passed: deletes their entries and publishes their leave events.
std::string make_refresh_script(std::string_view publish_verb) {
  return std::string(kNowLua) +
         "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])\n"
         "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
         "redis.call('PEXPIRE', KEYS[2], ARGV[2])\n"
         "local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now))\n"
         "if #dead == 0 then return 0 end\n"
         "local gone = {}\n"
         "for _, node in ipairs(dead) do gone[node] = true; redis.call('ZREM', KEYS[2], node) end\n"
         "local all = redis.call('HGETALL', KEYS[1])\n"
         "local swept = 0\n"
         "for i = 1, #all, 2 do\n"
         "  local node = string.match(all[i], '^([^/]*)/')\n"
         "  if node and gone[node] then\n"
         "    redis.call('HDEL', KEYS[1], all[i])\n"
         "    local newline = string.find(all[i + 1], '\\n', 1, true)\n"
         "    if newline then redis.call('" +
         std::string(publish_verb) +
         "', ARGV[3], 'e -\\n' .. string.sub(all[i + 1], newline + 1)) end\n"
         "    swept = swept + 1\n"
         "  end\n"
         "end\n"
         "return swept\n";
}

void RedisBroker::write_member(unsigned worker, std::string_view channel, std::string_view client,
                               std::string_view value) {
  const std::string field = node_id_ + "/" + std::string(client);
  const std::string ttl = std::to_string(options_.presence_ttl_ms);
  const std::string members = key("pm", channel);
  links_for(worker, members)
      .commands->command({"EVAL", join_script(), "2", members, key("pn", channel), node_id_, field, value, ttl}, {});
}

void RedisBroker::presence_join(unsigned owner_worker, std::string_view channel, const PresenceEntry& entry) {
  WorkerLinks& links = *workers_[owner_worker];
  std::string value(entry.member_json);
  value += '\n';
  value += entry.leave_frame;
  write_member(owner_worker, channel, entry.client, value);
  links.presence[std::string(channel)].insert_or_assign(std::string(entry.client), std::move(value));
  if (!links.refresh_timer.armed()) loops_[owner_worker]->arm(links.refresh_timer, options_.presence_ttl_ms / 3);
}

void RedisBroker::presence_leave(unsigned owner_worker, std::string_view channel, std::string_view client) {
  WorkerLinks& links = *workers_[owner_worker];
  auto it = links.presence.find(channel);
  if (it == links.presence.end()) return;
  if (auto member = it->second.find(client); member != it->second.end()) it->second.erase(member);
  const std::string members = key("pm", channel);
  redis::Connection& commands = *links_for(owner_worker, members).commands;
  commands.command({"HDEL", members, node_id_ + "/" + std::string(client)}, {});
  if (it->second.empty()) {
    links.presence.erase(it);
    // This node has no member here now: others need not wait for its expiry.
    commands.command({"ZREM", key("pn", channel), node_id_}, {});
  }
}

void RedisBroker::presence_elsewhere(unsigned owner_worker, std::string_view channel, PresenceDone done) {
  const std::string members = key("pm", channel);
  links_for(owner_worker, members)
      .commands->command({"EVAL", list_script(), "2", members, key("pn", channel), node_id_},
                         [done = std::move(done)](const redis::Reply& reply) {
                           if (reply.type != redis::ReplyType::kArray) {
                             done(PublishStatus::kUnavailable, {});
                             return;
                           }
                           std::vector<std::string> entries;
                           for (const redis::Reply& element : reply.elements) entries.push_back(element.str);
                           done(PublishStatus::kAccepted, std::move(entries));
                         });
}

void RedisBroker::on_refresh_timer(void* context) {
  auto& links = *static_cast<WorkerLinks*>(context);
  links.broker->refresh_presence(links);
}

void RedisBroker::refresh_presence(WorkerLinks& links) {
  if (links.presence.empty()) return;  // armed again by the next join
  const std::string ttl = std::to_string(options_.presence_ttl_ms);
  for (const auto& [channel, members] : links.presence) {
    const std::string members_key = key("pm", channel);
    links_for(links.worker, members_key)
        .commands->command(
            {"EVAL", refresh_script_, "2", members_key, key("pn", channel), node_id_, ttl, channel_key(channel)}, {});
  }
  loops_[links.worker]->arm(links.refresh_timer, options_.presence_ttl_ms / 3);
}

void RedisBroker::restore_presence(WorkerLinks& links, unsigned shard) {
  for (const auto& [channel, members] : links.presence) {
    if (shard_of(links.worker, key("pm", channel)) != shard) continue;
    for (const auto& [client, value] : members) write_member(links.worker, channel, client, value);
  }
}

void RedisBroker::withdraw_presence() {
  // A clean stop: this node's presence entries that are left (connections
  // the drain did not close) go at once, with their leave events. The
  // workers' loops have stopped; the connections' destructors send what
  // is queued.
  for (auto& links : workers_) {
    links->refresh_timer.cancel();
    if (links->shards.empty()) continue;
    for (const auto& [channel, members] : links->presence) {
      const std::string members_key = key("pm", channel);
      redis::Connection& commands = *links_for(links->worker, members_key).commands;
      std::vector<std::string> command{"HDEL", members_key};
      for (const auto& [client, value] : members) command.push_back(node_id_ + "/" + client);
      const std::vector<std::string_view> argv(command.begin(), command.end());
      commands.command(argv, {});
      commands.command({"ZREM", key("pn", channel), node_id_}, {});
      for (const auto& [client, value] : members) {
        const std::size_t newline = value.find('\n');
        commands.command({publish_verb_, channel_key(channel), format_event("-", value.substr(newline + 1))}, {});
      }
    }
  }
}

}  // namespace switchboard::broker
