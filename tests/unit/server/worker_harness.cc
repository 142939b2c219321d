#include "worker_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "codec/frame_writer.h"

namespace switchboard::server::testing {

std::string upgrade_request(std::string_view key, std::string_view version, std::string_view extra_headers) {
  std::string request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  if (!key.empty()) request += "Sec-WebSocket-Key: " + std::string(key) + "\r\n";
  if (!version.empty()) request += "Sec-WebSocket-Version: " + std::string(version) + "\r\n";
  request += extra_headers;
  request += "\r\n";
  return request;
}

bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // pacing the poll
  }
  return true;
}

// --- RecordingHandler ---------------------------------------------------

UpgradeDecision RecordingHandler::on_upgrade(const HttpRequest&, std::span<const std::string_view>) {
  if (reject_status != 0) return {reject_status, std::string(kRejectBody), {}};
  return {};
}

void RecordingHandler::on_open(Connection& connection, const HttpRequest& request) {
  std::lock_guard lock(mutex_);
  opened_.push_back(connection.id());
  peer_addresses_.emplace_back(request.peer_address);
  open_[connection.id()] = &connection;
}

void RecordingHandler::on_message(Connection& connection, std::string_view payload, Opcode opcode) {
  {
    std::lock_guard lock(mutex_);
    messages_.push_back({connection.id(), std::string(payload), opcode});
  }
  switch (answer) {
    case Answer::kEcho:
      connection.send(payload, opcode);
      return;
    case Answer::kEchoShared:
      connection.send(SharedMessage::make(payload, opcode));
      return;
    case Answer::kSized:
      connection.send(std::string(answer_size, 'a'), Opcode::kBinary);
      return;
    case Answer::kNone:
      return;
  }
}

void RecordingHandler::on_close(Connection& connection, CloseCode code, std::string_view reason) {
  std::lock_guard lock(mutex_);
  closed_.push_back({connection.id(), code, std::string(reason)});
  open_.erase(connection.id());
}

PingReply RecordingHandler::on_ping(Connection&, std::string_view payload) {
  std::lock_guard lock(mutex_);
  pings_.emplace_back(payload);
  return ping_reply;
}

void RecordingHandler::on_drain(Connection&) {
  std::lock_guard lock(mutex_);
  ++drains_;
}

GoingAway RecordingHandler::on_going_away(Connection&, std::uint64_t) {
  std::lock_guard lock(mutex_);
  ++going_away_;
  return GoingAway::kCloseNow;
}

std::vector<std::uint64_t> RecordingHandler::opened() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

std::vector<std::string> RecordingHandler::peer_addresses() const {
  std::lock_guard lock(mutex_);
  return peer_addresses_;
}

std::vector<Closed> RecordingHandler::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::vector<Received> RecordingHandler::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

std::vector<std::string> RecordingHandler::pings() const {
  std::lock_guard lock(mutex_);
  return pings_;
}

std::size_t RecordingHandler::drains() const {
  std::lock_guard lock(mutex_);
  return drains_;
}

std::size_t RecordingHandler::going_away() const {
  std::lock_guard lock(mutex_);
  return going_away_;
}

Connection* RecordingHandler::find(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto it = open_.find(id);
  return it == open_.end() ? nullptr : it->second;
}

// --- PeerFrame and Peer -------------------------------------------------

std::uint16_t PeerFrame::close_code() const {
  if (payload.size() < 2) return 0;
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(payload[0]) << 8 | static_cast<std::uint8_t>(payload[1]));
}

std::string PeerFrame::close_reason() const { return payload.size() > 2 ? payload.substr(2) : std::string(); }

Peer::Peer(int fd) : fd_(fd) {
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  timeval timeout{};
  timeout.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kWait).count();
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

Peer::~Peer() { close(); }

Peer::Peer(Peer&& other) noexcept : fd_(other.fd_), buffered_(std::move(other.buffered_)) { other.fd_ = -1; }

Peer Peer::connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  Peer peer(fd);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return peer;
}

bool Peer::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

bool Peer::send_frame(Opcode opcode, std::string_view payload, Fin fin) {
  return send(codec::make_masked_frame(opcode, payload, codec::MaskKey{0x12, 0x34, 0x56, 0x78}, fin));
}

bool Peer::send_close(std::uint16_t code, std::string_view reason) {
  return send_frame(Opcode::kClose, codec::make_close_payload(code, reason));
}

bool Peer::fill(std::size_t size) {
  char chunk[64 * 1024];
  while (buffered_.size() < size) {
    ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;  // EOF, reset, or kWait without a byte
    buffered_.append(chunk, static_cast<std::size_t>(got));
  }
  return true;
}

std::string Peer::read_head() {
  std::size_t end;
  while ((end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(buffered_.size() + 1)) return {};
  }
  std::string head = buffered_.substr(0, end + 4);
  buffered_.erase(0, end + 4);
  return head;
}

std::optional<PeerFrame> Peer::read_frame() {
  if (!fill(2)) return std::nullopt;
  PeerFrame frame;
  const auto first = static_cast<std::uint8_t>(buffered_[0]);
  const auto second = static_cast<std::uint8_t>(buffered_[1]);
  frame.fin = (first & 0x80) != 0;
  frame.opcode = static_cast<Opcode>(first & 0x0F);
  frame.masked = (second & 0x80) != 0;
  std::size_t header = 2;
  std::uint64_t length = second & 0x7F;
  if (length >= 126) {
    const std::size_t extra = length == 126 ? 2 : 8;
    if (!fill(2 + extra)) return std::nullopt;
    length = 0;
    for (std::size_t i = 0; i < extra; ++i) length = length << 8 | static_cast<std::uint8_t>(buffered_[2 + i]);
    header += extra;
  }
  if (frame.masked) header += 4;
  if (!fill(header + length)) return std::nullopt;
  frame.payload = buffered_.substr(header, length);
  buffered_.erase(0, header + length);
  return frame;
}

std::optional<std::string> Peer::read_to_eof() {
  std::string rest = std::move(buffered_);
  buffered_.clear();
  char chunk[64 * 1024];
  while (true) {
    ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
    if (got > 0) {
      rest.append(chunk, static_cast<std::size_t>(got));
      continue;
    }
    if (got == 0) return rest;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET || errno == EPIPE) return rest;
    return std::nullopt;  // EAGAIN: kWait passed, still open
  }
}

void Peer::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void Peer::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// --- RunningWorker ------------------------------------------------------

RunningWorker::RunningWorker(ServerConfig config, WebSocketHandler& handler,
                             const std::function<void(Router&)>& add_routes)
    : config_(std::move(config)) {
  config_.host = "127.0.0.1";
  config_.port = 0;
  router_.add(
      "GET", "/healthz",
      [](const HttpRequest&) {
        return HttpResponse{200, "text/plain; charset=utf-8", "ok\n", {}};
      },
      RouteKind::kHealthCheck);
  if (add_routes) add_routes(router_);
  admission_ = std::make_unique<Admission>(config_, 1);
  worker_ = std::make_unique<Worker>(0, config_, handler, router_, post_gate_, *admission_, 0);
  thread_ = std::thread([this] {
    worker_->run();
    finished_ = true;
  });
}

RunningWorker::~RunningWorker() { stop(); }

void RunningWorker::stop() {
  if (!thread_.joinable()) return;
  if (!finished_) worker_->loop().stop_soon();
  thread_.join();
}

Peer RunningWorker::adopt(int send_buffer) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
  }
  if (send_buffer > 0) setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
  const int server_end = fds[0];
  on_worker([this, server_end] { worker_->accept(server_end, "127.0.0.1"); });
  return Peer(fds[1]);
}

void RunningWorker::on_worker(std::function<void()> task) {
  // Shared, not borrowed: after a timeout the task may still run.
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  worker_->loop().post([task = std::move(task), done] {
    task();
    done->set_value();
  });
  if (finished.wait_for(kWait) != std::future_status::ready) throw std::runtime_error("worker did not run the task");
}

}  // namespace switchboard::server::testing
