// Redis Cluster: which master serves a key or a sharded pub/sub
// channel. A key's slot is CRC16 (XMODEM) of its hash tag -- the text
// between the first '{' and the next '}' when that is not empty, else the
// whole key -- modulo 16384. Our keys and channels for one Switchboard
// channel all carry the channel's name as their tag ("sb:off:{room}",
// "sb:ch:{room}"), so they live on one master, and a script may touch them
// together.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "loop/tls.h"
#include "redis/endpoint.h"
#include "redis/reply.h"

namespace switchboard::redis {

constexpr std::size_t kClusterSlots = 16384;

// Redis's CRC16 (XMODEM: polynomial 0x1021, initial value 0).
std::uint16_t crc16(std::string_view bytes);
// The slot of a key or sharded channel name, by Redis's hash tag rule.
std::uint16_t key_slot(std::string_view key);

// The masters of a cluster and the slots each serves.
struct ClusterMap {
  std::vector<Endpoint> masters;  // credentials copied from the seed
  // The index in masters serving each slot; nullopt for a slot nobody serves.
  std::array<std::optional<std::uint16_t>, kClusterSlots> slot_master;

  std::optional<std::uint16_t> master_of(std::string_view key) const { return slot_master[key_slot(key)]; }
};

// Reads a CLUSTER SLOTS reply: [[start, end, [host, port, id...], replicas...], ...].
// Masters come in the order first seen; each keeps seed's username and
// password. An error for a reply of another shape or one that leaves a
// slot unserved.
base::Result<ClusterMap> parse_cluster_slots(const Reply& reply, const Endpoint& seed);

// Blocking, for startup only (before the event loops run): connects to
// seed (over TLS with tls when seed.tls), logs in, asks CLUSTER SLOTS and
// parses it; timeout_ms bounds the whole exchange.
base::Result<ClusterMap> fetch_cluster_map(const Endpoint& seed, std::uint64_t timeout_ms,
                                           const loop::TlsContext* tls = nullptr);

}  // namespace switchboard::redis
