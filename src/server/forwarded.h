// The client behind a reverse proxy. Behind nginx or HAProxy every socket
// comes from the proxy, so the per-address cap and the logs would see one
// address for everybody. For a socket from a trusted proxy (and only then:
// anyone else could write the header) the client is read from
// X-Forwarded-For, which each proxy extends on the right: walking it from
// the right, the first address that is not a trusted proxy is the client.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace switchboard::server {

// IPv4 and IPv6 addresses and CIDR ranges ("10.0.0.0/8", "::1",
// "fd00::/8"). An IPv4 address written as IPv4-mapped IPv6
// ("::ffff:10.1.2.3") matches the IPv4 ranges.
class AddressSet {
 public:
  // The set, or which entry is wrong and why.
  static base::Result<AddressSet> parse(std::span<const std::string> entries);

  bool empty() const { return ranges_.empty(); }
  bool contains(std::string_view address) const;

 private:
  struct Range {
    std::array<std::uint8_t, 16> bytes;  // IPv4 as IPv4-mapped IPv6
    unsigned prefix_bits;                // of the 128
  };
  std::vector<Range> ranges_;
};

// The client's address: peer itself unless peer is in trusted; else the
// rightmost X-Forwarded-For entry that is not trusted, or the leftmost
// entry when all are (a chain of our own proxies). `forwarded_for` holds
// the header's values in the order received (a proxy may add a second
// header rather than extend the first). An entry that is not an IP address
// ends the walk: the address before it is the last one we can vouch for.
std::string client_address(std::string_view peer, std::span<const std::string_view> forwarded_for,
                           const AddressSet& trusted);

}  // namespace switchboard::server
