#include "loop/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include <gtest/gtest.h>

namespace switchboard::loop {
namespace {

int connect_to(const char* host, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, host, &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(Listener, PortZeroPicksAPortAndAcceptsNonBlockingSockets) {
  EventLoop loop;
  int accepted = -1;
  std::string peer;
  Listener listener(loop, {"127.0.0.1", 0}, [&](int fd, const std::string& from) {
    accepted = fd;
    peer = from;
    loop.quit();
  });
  ASSERT_NE(listener.port(), 0);
  int client = connect_to("127.0.0.1", listener.port());
  ASSERT_GE(client, 0);
  loop.run();
  ASSERT_GE(accepted, 0);
  EXPECT_EQ(peer, "127.0.0.1");
  char byte;
  EXPECT_EQ(::recv(accepted, &byte, 1, 0), -1);  // non-blocking: EAGAIN, not a hang
  ::close(accepted);
  ::close(client);
}

TEST(Listener, SeveralListenersShareAPort) {
  EventLoop loop;
  auto ignore = [](int fd, const std::string&) { ::close(fd); };
  Listener first(loop, {"127.0.0.1", 0}, ignore);
  Listener second(loop, {"127.0.0.1", first.port()}, ignore);  // SO_REUSEPORT
  EXPECT_EQ(first.port(), second.port());
}

TEST(Listener, BadAddressThrowsNamingIt) {
  EventLoop loop;
  try {
    Listener listener(loop, {"not-an-ip", 0}, [](int, const std::string&) {});
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("not-an-ip"), std::string::npos);
  }
}

TEST(Listener, AfterCloseConnectionsAreRefused) {
  EventLoop loop;
  Listener listener(loop, {"127.0.0.1", 0}, [](int fd, const std::string&) { ::close(fd); });
  std::uint16_t port = listener.port();
  listener.close();
  EXPECT_EQ(connect_to("127.0.0.1", port), -1);
}

}  // namespace
}  // namespace switchboard::loop
