#include "server/forwarded.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace switchboard::server {
namespace {

// Both families in one form: IPv4 as ::ffff:a.b.c.d.
std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view text, bool* is_v4) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  std::array<std::uint8_t, 16> bytes{};
  in_addr v4{};
  if (inet_pton(AF_INET, buffer, &v4) == 1) {
    bytes[10] = bytes[11] = 0xff;
    std::memcpy(bytes.data() + 12, &v4, 4);
    *is_v4 = true;
    return bytes;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buffer, &v6) == 1) {
    std::memcpy(bytes.data(), &v6, 16);
    *is_v4 = false;
    return bytes;
  }
  return std::nullopt;
}

bool prefix_matches(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b, unsigned bits) {
  const unsigned whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), whole) != 0) return false;
  if (bits % 8 == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - bits % 8));
  return (a[whole] & mask) == (b[whole] & mask);
}

// "[::1]:443", "10.0.0.1:80" and plain addresses, trimmed: RFC 7239's
// `for=` allows a port, and some proxies write one in X-Forwarded-For too.
std::string_view strip_port(std::string_view entry) {
  if (!entry.empty() && entry.front() == '[') {
    const std::size_t close = entry.find(']');
    return close == std::string_view::npos ? entry : entry.substr(1, close - 1);
  }
  if (std::count(entry.begin(), entry.end(), ':') == 1) return entry.substr(0, entry.find(':'));
  return entry;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

base::Result<AddressSet> AddressSet::parse(std::span<const std::string> entries) {
  AddressSet set;
  for (const std::string& entry : entries) {
    const std::size_t slash = entry.find('/');
    const std::string_view address = std::string_view(entry).substr(0, slash);
    bool is_v4 = false;
    const auto bytes = parse_ip(address, &is_v4);
    if (!bytes) {
      return base::Error("'" + entry + "' is not an IP address or a CIDR range");
    }
    unsigned bits = 128;
    if (slash != std::string::npos) {
      const std::string_view digits = std::string_view(entry).substr(slash + 1);
      const unsigned max = is_v4 ? 32 : 128;
      unsigned value = 0;
      if (digits.empty() || digits.size() > 3 ||
          !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return base::Error("'" + entry + "': the prefix length must be a number");
      }
      for (char c : digits) value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > max) {
        return base::Error("'" + entry + "': the prefix length is at most " + std::to_string(max));
      }
      bits = is_v4 ? 96 + value : value;
    }
    set.ranges_.push_back({*bytes, bits});
  }
  return set;
}

bool AddressSet::contains(std::string_view address) const {
  if (ranges_.empty()) return false;
  bool is_v4 = false;
  const auto bytes = parse_ip(strip_port(trim(address)), &is_v4);
  if (!bytes) return false;
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const Range& range) { return prefix_matches(*bytes, range.bytes, range.prefix_bits); });
}

std::string client_address(std::string_view peer, std::span<const std::string_view> forwarded_for,
                           const AddressSet& trusted) {
  if (!trusted.contains(peer)) return std::string(peer);
  std::string_view client = peer;
  for (auto header = forwarded_for.rbegin(); header != forwarded_for.rend(); ++header) {
    std::string_view rest = *header;
    while (true) {
      const std::size_t comma = rest.rfind(',');
      const std::string_view entry = strip_port(trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1)));
      bool is_v4 = false;
      if (!parse_ip(entry, &is_v4)) return std::string(client);  // garbage: stop at what we can vouch for
      client = entry;
      if (!trusted.contains(entry)) return std::string(client);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(0, comma);
    }
  }
  return std::string(client);
}

}  // namespace switchboard::server
