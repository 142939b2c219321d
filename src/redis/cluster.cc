#include "redis/cluster.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>

#include "redis/protocol.h"
#include "redis/resolve.h"

namespace switchboard::redis {
namespace {

base::Error fail(std::string message) { return base::Error(std::move(message)); }

// A socket (non-blocking, connected, maybe under TLS) used as if it
// blocked, every wait bounded by deadline.
class BlockingLink {
 public:
  BlockingLink(int fd, loop::TlsSession* tls, std::chrono::steady_clock::time_point deadline)
      : fd_(fd), tls_(tls), deadline_(deadline) {}

  base::Result<void> handshake() {
    if (tls_ == nullptr) return {};
    for (;;) {
      switch (tls_->handshake()) {
        case loop::TlsStatus::kDone:
          return {};
        case loop::TlsStatus::kWantRead:
          if (!wait(POLLIN)) return fail("timed out in the TLS handshake");
          break;
        case loop::TlsStatus::kWantWrite:
          if (!wait(POLLOUT)) return fail("timed out in the TLS handshake");
          break;
        default:
          return fail("TLS handshake: " + tls_->error());
      }
    }
  }

  // One request/reply exchange: the reply, or a timeout, a closed socket
  // or a protocol error.
  base::Result<Reply> exchange(std::span<const std::string_view> argv) {
    std::string out;
    encode_command(argv, out);
    std::size_t sent = 0;
    while (sent < out.size()) {
      const base::Result<std::size_t> written = write(out.data() + sent, out.size() - sent);
      if (!written) return base::Error(written.error());
      sent += *written;
    }
    char buffer[16384];
    for (;;) {
      Reply reply;
      switch (reader_.next(reply)) {
        case ReadOutcome::kReply:
          return reply;
        case ReadOutcome::kProtocolError:
          return fail("protocol error: " + reader_.error());
        case ReadOutcome::kNeedMore:
          break;
      }
      const base::Result<std::size_t> received = read(buffer, sizeof buffer);
      if (!received) return base::Error(received.error());
      if (!reader_.feed(buffer, *received)) return fail("protocol error: " + reader_.error());
    }
  }

 private:
  bool wait(short events) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    pollfd watch{fd_, events, 0};
    return ::poll(&watch, 1, static_cast<int>(std::max<std::int64_t>(0, left.count()))) > 0;
  }

  // Bytes written (> 0), or why none could be.
  base::Result<std::size_t> write(const char* data, std::size_t size) {
    for (;;) {
      if (tls_ != nullptr) {
        std::size_t moved = 0;
        const loop::TlsStatus status = tls_->write(data, size, &moved);
        if (status == loop::TlsStatus::kDone) return moved;
        if (status == loop::TlsStatus::kFailed || status == loop::TlsStatus::kClosed) {
          return fail("TLS write: " + tls_->error());
        }
        if (!wait(status == loop::TlsStatus::kWantRead ? POLLIN : POLLOUT)) return fail("timed out writing");
        continue;
      }
      const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n > 0) return static_cast<std::size_t>(n);
      if (n < 0 && errno != EINTR && errno != EAGAIN) return fail(std::string("write: ") + std::strerror(errno));
      if (!wait(POLLOUT)) return fail("timed out writing");
    }
  }

  // Bytes read (> 0), or why none were (a closed connection is an error here).
  base::Result<std::size_t> read(char* data, std::size_t size) {
    for (;;) {
      if (tls_ != nullptr) {
        std::size_t moved = 0;
        const loop::TlsStatus status = tls_->read(data, size, &moved);
        if (status == loop::TlsStatus::kDone) return moved;
        if (status == loop::TlsStatus::kClosed) return fail("connection closed");
        if (status == loop::TlsStatus::kFailed) return fail("TLS read: " + tls_->error());
        if (!wait(status == loop::TlsStatus::kWantWrite ? POLLOUT : POLLIN)) return fail("timed out reading");
        continue;
      }
      const ssize_t n = ::recv(fd_, data, size, 0);
      if (n > 0) return static_cast<std::size_t>(n);
      if (n == 0) return fail("connection closed");
      if (errno != EINTR && errno != EAGAIN) return fail(std::string("read: ") + std::strerror(errno));
      if (!wait(POLLIN)) return fail("timed out reading");
    }
  }

  int fd_;
  loop::TlsSession* tls_;
  std::chrono::steady_clock::time_point deadline_;
  ReplyReader reader_;
};

}  // namespace

std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char byte : bytes) {
    crc ^= static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc =
          (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021) : static_cast<std::uint16_t>(crc << 1);
    }
  }
  return crc;
}

std::uint16_t key_slot(std::string_view key) {
  if (const std::size_t open = key.find('{'); open != std::string_view::npos) {
    const std::size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<std::uint16_t>(crc16(key) % kClusterSlots);
}

base::Result<ClusterMap> parse_cluster_slots(const Reply& reply, const Endpoint& seed) {
  if (reply.type != ReplyType::kArray) {
    return fail(reply.is_error() ? "CLUSTER SLOTS: " + reply.str : "CLUSTER SLOTS: not an array");
  }
  ClusterMap map;
  for (const Reply& range : reply.elements) {
    if (range.type != ReplyType::kArray || range.elements.size() < 3 || range.elements[0].type != ReplyType::kInteger ||
        range.elements[1].type != ReplyType::kInteger || range.elements[2].type != ReplyType::kArray ||
        range.elements[2].elements.size() < 2 || range.elements[2].elements[0].type != ReplyType::kString ||
        range.elements[2].elements[1].type != ReplyType::kInteger) {
      return fail("CLUSTER SLOTS: an entry of an unexpected shape");
    }
    const long long start = range.elements[0].integer;
    const long long end = range.elements[1].integer;
    const long long port = range.elements[2].elements[1].integer;
    if (start < 0 || end < start || end >= static_cast<long long>(kClusterSlots) || port <= 0 || port > 65535) {
      return fail("CLUSTER SLOTS: a slot range or port out of bounds");
    }
    Endpoint master = seed;
    // An empty host means "the address you reached me at" (Redis 7).
    if (!range.elements[2].elements[0].str.empty()) {
      master.host = range.elements[2].elements[0].str;
      master.server_name = master.host;  // what the master's certificate must name
    }
    master.port = static_cast<std::uint16_t>(port);
    master.db = 0;  // a cluster has database 0 only
    std::uint16_t index = 0;
    while (index < map.masters.size() &&
           !(map.masters[index].host == master.host && map.masters[index].port == master.port)) {
      ++index;
    }
    if (index == map.masters.size()) map.masters.push_back(master);
    for (long long slot = start; slot <= end; ++slot) map.slot_master[static_cast<std::size_t>(slot)] = index;
  }
  for (std::size_t slot = 0; slot < kClusterSlots; ++slot) {
    if (!map.slot_master[slot]) return fail("CLUSTER SLOTS: slot " + std::to_string(slot) + " has no master");
  }
  return map;
}

base::Result<ClusterMap> fetch_cluster_map(const Endpoint& seed, std::uint64_t timeout_ms,
                                           const loop::TlsContext* tls) {
  const base::Result<Endpoint> resolved = resolve(seed);
  if (!resolved) return fail(resolved.error());
  const std::optional<SocketAddress> address = numeric_address(resolved->host, resolved->port);
  if (!address) return fail("cannot use the address " + resolved->host);
  const int fd = ::socket(address->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const std::string where = resolved->host + ":" + std::to_string(resolved->port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address->storage), address->size) != 0 && errno != EINPROGRESS) {
    return fail("connect to " + where + ": " + std::strerror(errno));
  }
  pollfd watch{fd, POLLOUT, 0};
  int socket_error = 0;
  socklen_t length = sizeof socket_error;
  if (::poll(&watch, 1, static_cast<int>(timeout_ms)) <= 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &length) != 0 || socket_error != 0) {
    return fail("connect to " + where + ": " + (socket_error != 0 ? std::strerror(socket_error) : "timed out"));
  }
  std::unique_ptr<loop::TlsSession> session;
  if (seed.tls) {
    if (tls == nullptr) return fail(where + ": rediss:// needs a TLS context");
    session = std::make_unique<loop::TlsSession>(*tls, fd, seed.tls_name());
  }
  BlockingLink link(fd, session.get(), deadline);
  if (const base::Result<void> handshake = link.handshake(); !handshake) return fail(where + ": " + handshake.error());
  if (!seed.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!seed.username.empty()) auth.push_back(seed.username);
    auth.push_back(seed.password);
    const base::Result<Reply> reply = link.exchange(auth);
    if (!reply) return fail(where + ": " + reply.error());
    if (reply->is_error()) return fail(where + ": AUTH: " + reply->str);
  }
  const std::string_view slots[] = {"CLUSTER", "SLOTS"};
  const base::Result<Reply> reply = link.exchange(slots);
  if (!reply) return fail(where + ": " + reply.error());
  return parse_cluster_slots(*reply, seed);
}

}  // namespace switchboard::redis
