// Where the load comes from: choosing source addresses (the target is
// resolved by client/endpoint.h). A client host runs out of ephemeral ports near
// 28,000 connections per (source, destination) address pair, so for big runs
// against loopback the connections are spread over 127.0.0.2, 127.0.0.3, ...
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "client/endpoint.h"

namespace switchboard::bench {

// One source address per this many connections when chosen automatically.
// Not the ~28,000 ports of the ephemeral range: the kernel's port search in
// connect() slows down as one source address fills up. 19,000 connections
// from one address opened at 4,900 handshakes/s (p90 129 ms, the loader
// busy in connect()); from four, at 18,400/s (p90 11 ms).
inline constexpr std::uint32_t kConnectionsPerSource = 4000;

// The IPv4 loopback addresses to bind, round-robin, for `connections`
// connections to target: `forced` of them when forced > 0 (127.0.0.2 on),
// else ceil(connections / kConnectionsPerSource) when the target is IPv4
// loopback and one address would not do; empty means "let the kernel pick".
std::vector<sockaddr_in> choose_source_addresses(const client::Endpoint& target, std::uint64_t connections,
                                                 std::uint32_t forced);

}  // namespace switchboard::bench
