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

std::optional<ClusterMap> fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return std::nullopt;
}

// A socket (non-blocking, connected, maybe under TLS) used as if it
// blocked, every wait bounded by deadline.
class BlockingLink {
 public:
  BlockingLink(int fd, loop::TlsSession* tls, std::chrono::steady_clock::time_point deadline)
      : fd_(fd), tls_(tls), deadline_(deadline) {}

  bool handshake(std::string* error) {
    if (tls_ == nullptr) return true;
    for (;;) {
      switch (tls_->handshake()) {
        case loop::TlsStatus::kDone:
          return true;
        case loop::TlsStatus::kWantRead:
          if (!wait(POLLIN)) return (*error = "timed out in the TLS handshake", false);
          break;
        case loop::TlsStatus::kWantWrite:
          if (!wait(POLLOUT)) return (*error = "timed out in the TLS handshake", false);
          break;
        default:
          return (*error = "TLS handshake: " + tls_->error(), false);
      }
    }
  }

  // One request/reply exchange; false with *error on a timeout, a closed
  // socket or a protocol error.
  bool exchange(std::span<const std::string_view> argv, Reply* reply, std::string* error) {
    std::string out;
    encode_command(argv, out);
    std::size_t sent = 0;
    while (sent < out.size()) {
      const long n = write(out.data() + sent, out.size() - sent, error);
      if (n < 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    char buffer[16384];
    for (;;) {
      switch (reader_.next(*reply)) {
        case ReadOutcome::kReply:
          return true;
        case ReadOutcome::kProtocolError:
          return (*error = "protocol error: " + reader_.error(), false);
        case ReadOutcome::kNeedMore:
          break;
      }
      const long n = read(buffer, sizeof buffer, error);
      if (n < 0) return false;
      if (!reader_.feed(buffer, static_cast<std::size_t>(n))) {
        return (*error = "protocol error: " + reader_.error(), false);
      }
    }
  }

 private:
  bool wait(short events) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    pollfd watch{fd_, events, 0};
    return ::poll(&watch, 1, static_cast<int>(std::max<std::int64_t>(0, left.count()))) > 0;
  }

  // Bytes written (> 0), or -1 with *error.
  long write(const char* data, std::size_t size, std::string* error) {
    for (;;) {
      if (tls_ != nullptr) {
        std::size_t moved = 0;
        const loop::TlsStatus status = tls_->write(data, size, &moved);
        if (status == loop::TlsStatus::kDone) return static_cast<long>(moved);
        if (status == loop::TlsStatus::kFailed || status == loop::TlsStatus::kClosed)
          return (*error = "TLS write: " + tls_->error(), -1);
        if (!wait(status == loop::TlsStatus::kWantRead ? POLLIN : POLLOUT)) return (*error = "timed out writing", -1);
        continue;
      }
      const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n > 0) return n;
      if (n < 0 && errno != EINTR && errno != EAGAIN)
        return (*error = std::string("write: ") + std::strerror(errno), -1);
      if (!wait(POLLOUT)) return (*error = "timed out writing", -1);
    }
  }

  // Bytes read (> 0), or -1 with *error (a closed connection is an error here).
  long read(char* data, std::size_t size, std::string* error) {
    for (;;) {
      if (tls_ != nullptr) {
        std::size_t moved = 0;
        const loop::TlsStatus status = tls_->read(data, size, &moved);
        if (status == loop::TlsStatus::kDone) return static_cast<long>(moved);
        if (status == loop::TlsStatus::kClosed) return (*error = "connection closed", -1);
        if (status == loop::TlsStatus::kFailed) return (*error = "TLS read: " + tls_->error(), -1);
        if (!wait(status == loop::TlsStatus::kWantWrite ? POLLOUT : POLLIN)) return (*error = "timed out reading", -1);
        continue;
      }
      const ssize_t n = ::recv(fd_, data, size, 0);
      if (n > 0) return n;
      if (n == 0) return (*error = "connection closed", -1);
      if (errno != EINTR && errno != EAGAIN) return (*error = std::string("read: ") + std::strerror(errno), -1);
      if (!wait(POLLIN)) return (*error = "timed out reading", -1);
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

std::optional<ClusterMap> parse_cluster_slots(const Reply& reply, const Endpoint& seed, std::string* error) {
  if (reply.type != ReplyType::kArray) {
    return fail(error, reply.is_error() ? "CLUSTER SLOTS: " + reply.str : "CLUSTER SLOTS: not an array");
  }
  ClusterMap map;
  for (const Reply& range : reply.elements) {
    if (range.type != ReplyType::kArray || range.elements.size() < 3 || range.elements[0].type != ReplyType::kInteger ||
        range.elements[1].type != ReplyType::kInteger || range.elements[2].type != ReplyType::kArray ||
        range.elements[2].elements.size() < 2 || range.elements[2].elements[0].type != ReplyType::kString ||
        range.elements[2].elements[1].type != ReplyType::kInteger) {
      return fail(error, "CLUSTER SLOTS: an entry of an unexpected shape");
    }
    const long long start = range.elements[0].integer;
    const long long end = range.elements[1].integer;
    const long long port = range.elements[2].elements[1].integer;
    if (start < 0 || end < start || end >= static_cast<long long>(kClusterSlots) || port <= 0 || port > 65535) {
      return fail(error, "CLUSTER SLOTS: a slot range or port out of bounds");
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
    if (!map.slot_master[slot]) return fail(error, "CLUSTER SLOTS: slot " + std::to_string(slot) + " has no master");
  }
  return map;
}

std::optional<ClusterMap> fetch_cluster_map(const Endpoint& seed, std::uint64_t timeout_ms, std::string* error,
                                            const loop::TlsContext* tls) {
  std::string problem;
  const std::optional<Endpoint> resolved = resolve(seed, &problem);
  if (!resolved) return fail(error, problem);
  const std::optional<SocketAddress> address = numeric_address(resolved->host, resolved->port);
  if (!address) return fail(error, "cannot use the address " + resolved->host);
  const int fd = ::socket(address->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(error, std::string("socket: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const std::string where = resolved->host + ":" + std::to_string(resolved->port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address->storage), address->size) != 0 && errno != EINPROGRESS) {
    return fail(error, "connect to " + where + ": " + std::strerror(errno));
  }
  pollfd watch{fd, POLLOUT, 0};
  int socket_error = 0;
  socklen_t length = sizeof socket_error;
  if (::poll(&watch, 1, static_cast<int>(timeout_ms)) <= 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &length) != 0 || socket_error != 0) {
    return fail(error, "connect to " + where + ": " + (socket_error != 0 ? std::strerror(socket_error) : "timed out"));
  }
  std::unique_ptr<loop::TlsSession> session;
  if (seed.tls) {
    if (tls == nullptr) return fail(error, where + ": rediss:// needs a TLS context");
    session = std::make_unique<loop::TlsSession>(*tls, fd, seed.tls_name());
  }
  BlockingLink link(fd, session.get(), deadline);
  if (!link.handshake(&problem)) return fail(error, where + ": " + problem);
  Reply reply;
  if (!seed.password.empty()) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!seed.username.empty()) auth.push_back(seed.username);
    auth.push_back(seed.password);
    if (!link.exchange(auth, &reply, &problem)) return fail(error, where + ": " + problem);
    if (reply.is_error()) return fail(error, where + ": AUTH: " + reply.str);
  }
  const std::string_view slots[] = {"CLUSTER", "SLOTS"};
  if (!link.exchange(slots, &reply, &problem)) return fail(error, where + ": " + problem);
  return parse_cluster_slots(reply, seed, error);
}

}  // namespace switchboard::redis
