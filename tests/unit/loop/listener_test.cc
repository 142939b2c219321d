#include "loop/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>

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
  Listener second(loop, {"127.0.0.1", first.port()}, ignore, PortClaim::kJoin);  // SO_REUSEPORT
  EXPECT_EQ(first.port(), second.port());
}

// What another process's listener looks like from here: SO_REUSEPORT and
// the same user id, so the kernel would let a second one share its port.
int listen_like_another_server(const char* host, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, host, &address.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

// The message a refused first listener throws, or "" when it bound.
std::string refusal(EventLoop& loop, const char* host, std::uint16_t port) {
  try {
    Listener listener(loop, {host, port}, [](int fd, const std::string&) { ::close(fd); });
    return "";
  } catch (const std::runtime_error& error) {
    return error.what();
  }
}

TEST(Listener, RefusesAPortAnotherServerListensOn) {
  EventLoop loop;
  const int other = listen_like_another_server("127.0.0.1", 0);
  ASSERT_GE(other, 0);
  const std::uint16_t port = local_port(other);
  const std::string error = refusal(loop, "127.0.0.1", port);
  EXPECT_NE(error.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << error;
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
  ::close(other);
}

TEST(Listener, RefusesASpecificAddressUnderAnotherServersWildcard) {
  EventLoop loop;
  const int other = listen_like_another_server("0.0.0.0", 0);
  ASSERT_GE(other, 0);
  const std::uint16_t port = local_port(other);
  EXPECT_NE(refusal(loop, "127.0.0.1", port), "");
  EXPECT_NE(refusal(loop, "0.0.0.0", port), "");
  ::close(other);
}

TEST(Listener, RefusesAnIpv6PortAnotherServerListensOn) {
  EventLoop loop;
  int other = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (other < 0) GTEST_SKIP() << "no IPv6";
  int one = 1;
  setsockopt(other, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(other, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_any;
  if (::bind(other, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(other, 16) != 0) {
    ::close(other);
    GTEST_SKIP() << "cannot listen on [::]";
  }
  socklen_t length = sizeof address;
  getsockname(other, reinterpret_cast<sockaddr*>(&address), &length);
  const std::uint16_t port = ntohs(address.sin6_port);
  EXPECT_NE(refusal(loop, "::", port), "");
  EXPECT_NE(refusal(loop, "::1", port), "");
  ::close(other);
}

TEST(Listener, RestartsOnAPortWithConnectionsInTimeWait) {
  EventLoop loop;
  int accepted = -1;
  auto listener = std::make_unique<Listener>(loop, ListenAddress{"127.0.0.1", 0}, [&](int fd, const std::string&) {
    accepted = fd;
    loop.quit();
  });
  const std::uint16_t port = listener->port();
  int client = connect_to("127.0.0.1", port);
  ASSERT_GE(client, 0);
  loop.run();
  ASSERT_GE(accepted, 0);
  // The server closes first, so its side of the connection ends in TIME_WAIT.
  ::close(accepted);
  char byte;
  EXPECT_EQ(::recv(client, &byte, 1, 0), 0);
  ::close(client);
  listener.reset();
  EXPECT_EQ(refusal(loop, "127.0.0.1", port), "");
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
