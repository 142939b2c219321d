// Benchmark peer: the "ceiling", a minimal WebSocket server on raw epoll.
//
//   ceiling_server PORT echo|broadcast
//
// It does only what the benchmark needs and what the syscalls require, so its
// numbers are the best a single thread can do with plain read/send:
//   - one thread, one level-triggered epoll set, non-blocking sockets;
//   - the handshake: read the request head up to CRLFCRLF, find
//     Sec-WebSocket-Key, answer a fixed 101 head (RFC 6455 §4.2.2);
//   - framing (RFC 6455 §5.2): header, 7/16/64-bit length, unmasking. No
//     UTF-8 check, no reserved-bit or opcode validation, no extensions;
//   - ping gets pong, close gets its close frame echoed and then the fd closed;
//   - write first with send(MSG_NOSIGNAL), buffer only what the kernel does
//     not take, and watch EPOLLOUT only while bytes are pending.
// echo:      every frame goes back to its sender; all the echoes produced by
//            one read leave in one send().
// broadcast: every data frame is framed ONCE and sent to every open
//            connection (sender included) at once: one send() per subscriber
//            per message. This is the baseline that batched fan-out must beat.
//            Frames are forwarded as they come, so a fragmented message is
//            only delivered intact while no other publisher interleaves.
// There is no output-buffer limit: a subscriber that stops reading grows its
// buffer without bound. The load tool always reads.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace {

constexpr std::size_t kReadSize = std::size_t{256} * 1024;              // one loop-wide receive buffer
constexpr std::size_t kMaxHandshake = std::size_t{8} * 1024;            // request head limit
constexpr std::uint64_t kMaxPayload = std::uint64_t{16} * 1024 * 1024;  // same as the other peers
constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

enum class Mode { kEcho, kBroadcast };

// RFC 6455 §5.2 opcodes that the server must act on.
constexpr std::uint8_t kOpClose = 0x8;
constexpr std::uint8_t kOpPing = 0x9;
constexpr std::uint8_t kOpPong = 0xA;

struct Connection {
  enum class State { kHandshake, kOpen, kClosing, kDead };
  int fd;
  State state = State::kHandshake;
  std::string in;              // request head, then at most one partial frame
  std::string out;             // bytes the kernel has not taken yet
  std::size_t out_sent = 0;    // prefix of `out` already sent
  std::size_t open_index = 0;  // position in Server::open_ while kOpen
};

// Appends a server frame (never masked) with first byte `b0` and `size`
// payload bytes from `payload`, XOR-ed with `mask` when it is non-null.
// The unmasking runs 8 bytes at a time: the 4-byte key repeated twice.
void append_frame(std::string& to, std::uint8_t b0, const char* payload, std::size_t size, const std::uint8_t* mask) {
  char header[10];
  std::size_t header_size = 2;
  header[0] = static_cast<char>(b0);
  if (size < 126) {
    header[1] = static_cast<char>(size);
  } else if (size <= 0xFFFF) {
    header[1] = 126;
    header[2] = static_cast<char>(size >> 8);
    header[3] = static_cast<char>(size);
    header_size = 4;
  } else {
    header[1] = 127;
    for (int i = 0; i < 8; ++i) header[2 + i] = static_cast<char>(static_cast<std::uint64_t>(size) >> (56 - 8 * i));
    header_size = 10;
  }
  const std::size_t start = to.size();
  to.append(header, header_size);
  to.append(payload, size);
  if (mask == nullptr) return;

  char* p = to.data() + start + header_size;
  std::uint64_t mask8;
  std::memcpy(&mask8, mask, 4);
  std::memcpy(reinterpret_cast<char*>(&mask8) + 4, mask, 4);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    word ^= mask8;
    std::memcpy(p + i, &word, 8);
  }
  for (; i < size; ++i) p[i] = static_cast<char>(p[i] ^ mask[i % 4]);
}

// Sec-WebSocket-Accept for `key` (RFC 6455 §4.2.2 item 5.4):
// base64(SHA-1(key + GUID)).
std::string accept_key(std::string_view key) {
  std::string input(key);
  input.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int length = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(encoded), static_cast<std::size_t>(length));
}

// The value of the Sec-WebSocket-Key header in `head` (header names are
// case-insensitive, RFC 9110 §5.1), or empty when there is none.
std::string_view find_key(std::string_view head) {
  constexpr std::string_view kName = "\r\nsec-websocket-key:";
  const auto it = std::search(head.begin(), head.end(), kName.begin(), kName.end(),
                              [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  if (it == head.end()) return {};
  std::size_t begin = static_cast<std::size_t>(it - head.begin()) + kName.size();
  const std::size_t end = head.find("\r\n", begin);
  while (begin < end && (head[begin] == ' ' || head[begin] == '\t')) ++begin;
  std::size_t last = end;
  while (last > begin && (head[last - 1] == ' ' || head[last - 1] == '\t')) --last;
  return head.substr(begin, last - begin);
}

class Server {
 public:
  explicit Server(Mode mode) : mode_(mode), read_buffer_(new char[kReadSize]) {}

  ~Server() {
    for (const auto& c : all_) {
      if (c->state != Connection::State::kDead) close(c->fd);
    }
    if (listen_fd_ >= 0) close(listen_fd_);
    if (signal_fd_ >= 0) close(signal_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
  }

  // Binds 127.0.0.1:port; returns the bound port, or 0 on failure.
  int listen_on(std::uint16_t port) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 0;
    if (listen(listen_fd_, SOMAXCONN) != 0) return 0;
    socklen_t length = sizeof address;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    watch(listen_fd_, EPOLLIN, nullptr, EPOLL_CTL_ADD);

    // SIGINT/SIGTERM arrive as a readable fd, so the loop stops between events.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &signals, nullptr);  // NOLINT(concurrency-mt-unsafe): before any thread
    signal_fd_ = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    watch(signal_fd_, EPOLLIN, &signal_fd_, EPOLL_CTL_ADD);
    return ntohs(address.sin_port);
  }

  void run() {
    epoll_event events[256];
    for (;;) {
      const int count = epoll_wait(epoll_fd_, events, 256, -1);
      if (count < 0 && errno != EINTR) return;
      for (int i = 0; i < count; ++i) {
        void* tag = events[i].data.ptr;
        if (tag == nullptr) {
          accept_all();
        } else if (tag == &signal_fd_) {
          return;
        } else {
          auto* c = static_cast<Connection*>(tag);
          if (c->state == Connection::State::kDead) continue;  // killed earlier in this batch
          if (events[i].events & (EPOLLERR | EPOLLHUP)) {
            kill(*c);
          } else if (events[i].events & EPOLLOUT) {
            on_writable(*c);
          } else if (events[i].events & EPOLLIN) {
            on_readable(*c);
          }
        }
      }
      bury_dead();
    }
  }

 private:
  void watch(int fd, std::uint32_t events, void* tag, int op) {
    epoll_event event{};
    event.events = events;
    event.data.ptr = tag;
    epoll_ctl(epoll_fd_, op, fd, &event);
  }

  void accept_all() {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of fds: level-triggered, we come back
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      all_.push_back(std::make_unique<Connection>(Connection{.fd = fd}));
      watch(fd, EPOLLIN, all_.back().get(), EPOLL_CTL_ADD);
    }
  }

  // Reads until the socket is likely drained (a short read), handling each
  // read's bytes at once so that one read yields at most one echo write.
  void on_readable(Connection& c) {
    for (;;) {
      const ssize_t n = recv(c.fd, read_buffer_.get(), kReadSize, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return kill(c);
      if (n < 0) return;
      consume(c, read_buffer_.get(), static_cast<std::size_t>(n));
      if (c.state != Connection::State::kOpen || static_cast<std::size_t>(n) < kReadSize) return;
    }
  }

  // Bytes go straight from the loop-wide buffer to the parser; only the
  // leftover partial frame (or unfinished request head) is kept per connection.
  void consume(Connection& c, const char* data, std::size_t size) {
    if (c.state == Connection::State::kHandshake) {
      c.in.append(data, size);
      const std::size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c.in.size() > kMaxHandshake) kill(c);
        return;
      }
      if (!handshake(c, std::string_view(c.in).substr(0, end + 2))) return;
      c.in.erase(0, end + 4);
      if (c.in.empty()) return;
      std::string rest = std::move(c.in);  // frames sent right behind the request head
      c.in.clear();
      return consume(c, rest.data(), rest.size());
    }
    if (c.state != Connection::State::kOpen) return;  // closing: input is ignored

    std::size_t used;
    if (c.in.empty()) {
      used = parse_frames(c, data, size);
      if (c.state == Connection::State::kOpen) c.in.assign(data + used, size - used);
    } else {
      c.in.append(data, size);
      used = parse_frames(c, c.in.data(), c.in.size());
      c.in.erase(0, used);
    }
    if (!batch_.empty()) {
      write(c, batch_.data(), batch_.size());
      batch_.clear();
      if (c.state == Connection::State::kClosing && c.out_sent == c.out.size()) kill(c);
    }
  }

  bool handshake(Connection& c, std::string_view head) {
    const std::string_view key = find_key(head);
    if (key.empty()) {
      static constexpr std::string_view kBadRequest =
          "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      send(c.fd, kBadRequest.data(), kBadRequest.size(), MSG_NOSIGNAL);
      kill(c);
      return false;
    }
    std::string response =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
    response += accept_key(key);
    response += "\r\n\r\n";
    c.state = Connection::State::kOpen;
    c.open_index = open_.size();
    open_.push_back(&c);
    write(c, response.data(), response.size());
    return c.state == Connection::State::kOpen;
  }

  // Handles every complete frame in [data, data + size) (RFC 6455 §5.2) and
  // returns how many bytes they took. Replies to the sender go to batch_;
  // broadcast frames go out at once.
  std::size_t parse_frames(Connection& c, const char* data, std::size_t size) {
    std::size_t at = 0;
    while (c.state == Connection::State::kOpen && size - at >= 2) {
      const auto* p = reinterpret_cast<const std::uint8_t*>(data + at);
      const std::uint8_t b0 = p[0];
      const bool masked = (p[1] & 0x80) != 0;
      std::uint64_t length = p[1] & 0x7F;
      std::size_t header = 2;
      if (length == 126) {
        header = 4;
        if (size - at < header) break;
        length = (std::uint64_t{p[2]} << 8) | p[3];
      } else if (length == 127) {
        header = 10;
        if (size - at < header) break;
        length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
      }
      if (length > kMaxPayload) {
        kill(c);
        break;
      }
      const std::uint8_t* mask = masked ? p + header : nullptr;
      if (masked) header += 4;
      if (size - at < header + length) {
        if (c.in.empty()) c.in.reserve(header + length);  // one allocation for a large frame
        break;
      }
      const char* payload = data + at + header;
      const auto payload_size = static_cast<std::size_t>(length);
      at += header + payload_size;

      switch (b0 & 0x0F) {
        case kOpPing:
          append_frame(batch_, 0x80 | kOpPong, payload, payload_size, mask);
          break;
        case kOpPong:
          break;
        case kOpClose:  // echo the status code, then close once it is written
          append_frame(batch_, 0x80 | kOpClose, payload, payload_size, mask);
          leave_open(c);
          c.state = Connection::State::kClosing;
          break;
        default:  // text, binary or continuation
          if (mode_ == Mode::kEcho) {
            append_frame(batch_, b0, payload, payload_size, mask);
          } else {
            frame_.clear();
            append_frame(frame_, b0, payload, payload_size, mask);
            broadcast();
          }
      }
    }
    return at;
  }

  // One send() per open connection, the sender included. Iterates by index:
  // a failed send kills that connection but leaves open_ intact until the end
  // of the loop iteration.
  void broadcast() {
    for (std::size_t i = 0; i < open_.size(); ++i) {
      Connection& to = *open_[i];
      if (to.state == Connection::State::kOpen) write(to, frame_.data(), frame_.size());
    }
  }

  // Writes what the kernel takes now; keeps the rest and watches EPOLLOUT
  // only while it is pending. Once bytes are pending, later writes queue
  // behind them so that frames stay in order, and the connection is not read
  // until they are gone (backpressure on a sender that does not read).
  void write(Connection& c, const char* data, std::size_t size) {
    if (c.state == Connection::State::kDead) return;  // e.g. its own broadcast failed
    if (c.out_sent < c.out.size()) {
      c.out.append(data, size);
      return;
    }
    ssize_t n = send(c.fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) return kill(c);
      n = 0;
    }
    if (static_cast<std::size_t>(n) == size) return;
    c.out.assign(data + n, size - static_cast<std::size_t>(n));
    c.out_sent = 0;
    watch(c.fd, EPOLLOUT, &c, EPOLL_CTL_MOD);
  }

  void on_writable(Connection& c) {
    const ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) kill(c);
      return;
    }
    c.out_sent += static_cast<std::size_t>(n);
    if (c.out_sent < c.out.size()) return;
    c.out.clear();
    c.out_sent = 0;
    if (c.state == Connection::State::kClosing) return kill(c);
    watch(c.fd, EPOLLIN, &c, EPOLL_CTL_MOD);
  }

  // Takes `c` out of the broadcast set (swap with the last, O(1)).
  void leave_open(Connection& c) {
    if (c.state != Connection::State::kOpen) return;
    Connection* last = open_.back();
    open_[c.open_index] = last;
    last->open_index = c.open_index;
    open_.pop_back();
  }

  // Closes the fd now; the Connection itself is freed by bury_dead() after the
  // current batch of events, which may still name it.
  void kill(Connection& c) {
    if (c.state == Connection::State::kDead) return;
    leave_open(c);
    close(c.fd);
    c.state = Connection::State::kDead;
    dead_ = true;
  }

  void bury_dead() {
    if (!dead_) return;
    std::erase_if(all_, [](const auto& c) { return c->state == Connection::State::kDead; });
    dead_ = false;
  }

  Mode mode_;
  int epoll_fd_ = -1;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
  std::unique_ptr<char[]> read_buffer_;
  std::vector<std::unique_ptr<Connection>> all_;  // owns every connection
  std::vector<Connection*> open_;                 // handshake done, no close seen
  std::string batch_;                             // replies produced by one read
  std::string frame_;                             // the broadcast frame, built once
  bool dead_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string_view(argv[2]) != "echo" && std::string_view(argv[2]) != "broadcast")) {
    std::fprintf(stderr, "usage: %s PORT echo|broadcast\n", argv[0]);
    return 2;
  }
  Server server(std::string_view(argv[2]) == "echo" ? Mode::kEcho : Mode::kBroadcast);
  const int port = server.listen_on(static_cast<std::uint16_t>(std::atoi(argv[1])));
  if (port == 0) {
    std::perror("ceiling_server: listen");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  server.run();
  return 0;
}
