#include "bench/address.h"

#include <arpa/inet.h>

namespace switchboard::bench {

std::vector<sockaddr_in> choose_source_addresses(const client::Endpoint& target, std::uint64_t connections,
                                                 std::uint32_t forced) {
  std::uint64_t count = forced;
  if (count == 0) {
    if (!target.is_ipv4_loopback() || connections <= kConnectionsPerSource) return {};
    count = (connections + kConnectionsPerSource - 1) / kConnectionsPerSource;
  }
  std::vector<sockaddr_in> sources;
  for (std::uint64_t i = 0; i < count; ++i) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_port = 0;
    source.sin_addr.s_addr = htonl(0x7F000002u + static_cast<std::uint32_t>(i));  // 127.0.0.2 on
    sources.push_back(source);
  }
  return sources;
}

}  // namespace switchboard::bench
