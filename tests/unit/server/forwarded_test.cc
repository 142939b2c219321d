#include "server/forwarded.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::server {
namespace {

AddressSet set_of(std::vector<std::string> entries) {
  base::Result<AddressSet> set = AddressSet::parse(entries);
  EXPECT_TRUE(set.has_value()) << set.error();
  return set.value_or(AddressSet{});
}

TEST(AddressSet, AddressesAndRangesOfBothFamilies) {
  const AddressSet set = set_of({"127.0.0.1", "10.0.0.0/8", "fd00::/8", "::1", "192.168.1.0/23"});
  EXPECT_TRUE(set.contains("127.0.0.1"));
  EXPECT_FALSE(set.contains("127.0.0.2"));
  EXPECT_TRUE(set.contains("10.255.1.2"));
  EXPECT_FALSE(set.contains("11.0.0.1"));
  EXPECT_TRUE(set.contains("192.168.0.7"));  // /23: .0 and .1
  EXPECT_FALSE(set.contains("192.168.2.7"));
  EXPECT_TRUE(set.contains("fd12:3456::1"));
  EXPECT_FALSE(set.contains("fe80::1"));
  EXPECT_TRUE(set.contains("::1"));
  EXPECT_TRUE(set.contains("::ffff:10.1.2.3"));  // IPv4-mapped matches the IPv4 range
  EXPECT_FALSE(set.contains("not an address"));
  EXPECT_FALSE(set.contains(""));
}

TEST(AddressSet, BadEntriesAreNamed) {
  for (const std::string bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x8", "example.com", "10.0.0.256", ""}) {
    std::vector<std::string> entries{bad};
    const base::Result<AddressSet> set = AddressSet::parse(entries);
    ASSERT_FALSE(set.has_value()) << bad;
    EXPECT_NE(set.error().find("'" + bad + "'"), std::string::npos) << set.error();
  }
  EXPECT_TRUE(set_of({}).empty());
  EXPECT_TRUE(set_of({"0.0.0.0/0"}).contains("8.8.8.8"));
}

TEST(ClientAddress, OnlyATrustedPeerIsBelieved) {
  const AddressSet proxies = set_of({"127.0.0.1", "10.0.0.0/8"});
  std::vector<std::string_view> header{"6.6.6.6"};
  EXPECT_EQ(client_address("203.0.113.9", header, proxies), "203.0.113.9");  // a client cannot name itself
  EXPECT_EQ(client_address("127.0.0.1", header, proxies), "6.6.6.6");
  EXPECT_EQ(client_address("127.0.0.1", {}, proxies), "127.0.0.1");  // no header: the proxy itself
}

TEST(ClientAddress, TheRightmostUntrustedEntryIsTheClient) {
  const AddressSet proxies = set_of({"127.0.0.1", "10.0.0.0/8"});
  // The client forged the first entry; our two proxies appended the rest.
  std::vector<std::string_view> header{"1.2.3.4, 198.51.100.7, 10.0.0.5"};
  EXPECT_EQ(client_address("127.0.0.1", header, proxies), "198.51.100.7");
  // Several headers count as one list, in order.
  std::vector<std::string_view> split{"1.2.3.4", "198.51.100.7,10.0.0.5"};
  EXPECT_EQ(client_address("127.0.0.1", split, proxies), "198.51.100.7");
  // Ports and brackets, as some proxies write them.
  std::vector<std::string_view> ported{"[2001:db8::7]:5555, 10.1.1.1:80"};
  EXPECT_EQ(client_address("127.0.0.1", ported, proxies), "2001:db8::7");
  // All trusted: the leftmost.
  std::vector<std::string_view> inside{"10.0.0.9, 10.0.0.5"};
  EXPECT_EQ(client_address("127.0.0.1", inside, proxies), "10.0.0.9");
}

TEST(ClientAddress, GarbageStopsTheWalk) {
  const AddressSet proxies = set_of({"127.0.0.1", "10.0.0.0/8"});
  std::vector<std::string_view> header{"198.51.100.7, unknown, 10.0.0.5"};
  EXPECT_EQ(client_address("127.0.0.1", header, proxies), "10.0.0.5");
  std::vector<std::string_view> empty{""};
  EXPECT_EQ(client_address("127.0.0.1", empty, proxies), "127.0.0.1");
  std::vector<std::string_view> trailing{"198.51.100.7,"};
  EXPECT_EQ(client_address("127.0.0.1", trailing, proxies), "127.0.0.1");
}

}  // namespace
}  // namespace switchboard::server
