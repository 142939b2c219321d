// Source addresses: none unless the target is IPv4 loopback and the run is
// big (or the count is forced), then 127.0.0.2 upwards.
#include "bench/address.h"

#include <arpa/inet.h>

#include <gtest/gtest.h>

namespace switchboard::bench {
namespace {

client::Endpoint endpoint_of(const char* url_text) {
  const base::Result<client::WsUrl> url = client::parse_ws_url(url_text);
  EXPECT_TRUE(url.ok()) << url.error();
  const base::Result<client::Endpoint> endpoint = client::resolve(url.value_or(client::WsUrl{}));
  EXPECT_TRUE(endpoint.ok()) << endpoint.error();
  return endpoint.value_or(client::Endpoint{});
}

std::string text(const sockaddr_in& address) {
  char buffer[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &address.sin_addr, buffer, sizeof buffer);
  return buffer;
}

TEST(SourceAddresses, AutomaticOnlyForBigLoopbackRuns) {
  const client::Endpoint loopback = endpoint_of("ws://127.0.0.1:8080/");
  EXPECT_TRUE(choose_source_addresses(loopback, kConnectionsPerSource, 0).empty());
  const auto two = choose_source_addresses(loopback, kConnectionsPerSource + 1, 0);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(text(two[0]), "127.0.0.2");
  EXPECT_EQ(text(two[1]), "127.0.0.3");
  EXPECT_EQ(two[0].sin_port, 0);
  EXPECT_EQ(choose_source_addresses(loopback, 100'000, 0).size(),
            (100'000 + kConnectionsPerSource - 1) / kConnectionsPerSource);
  EXPECT_TRUE(choose_source_addresses(endpoint_of("ws://10.1.2.3/"), 100'000, 0).empty());
}

TEST(SourceAddresses, ForcedCount) {
  const client::Endpoint loopback = endpoint_of("ws://127.0.0.1:8080/");
  const auto three = choose_source_addresses(loopback, 10, 3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(text(three[2]), "127.0.0.4");
}

}  // namespace
}  // namespace switchboard::bench
