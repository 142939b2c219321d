#include "integration/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "codec/frame_parser.h"
#include "codec/frame_writer.h"

namespace switchboard::testing {
namespace {

// Collects the frames the client-role parser reports.
struct FrameCollector {
  std::deque<Frame>* out;
  codec::Flow on_message(Opcode opcode, std::string_view payload) {
    out->push_back({opcode, std::string(payload)});
    return codec::Flow::kContinue;
  }
  codec::Flow on_ping(std::string_view payload) {
    out->push_back({Opcode::kPing, std::string(payload)});
    return codec::Flow::kContinue;
  }
  codec::Flow on_pong(std::string_view payload) {
    out->push_back({Opcode::kPong, std::string(payload)});
    return codec::Flow::kContinue;
  }
  codec::Flow on_close(CloseCode code, std::string_view reason) {
    std::uint16_t value = code == CloseCode::kNoStatus ? 0 : static_cast<std::uint16_t>(code);
    out->push_back({Opcode::kClose, std::string(reason), value});
    return codec::Flow::kStop;
  }
};

}  // namespace

struct RawClient::Parser {
  codec::FrameParser parser{codec::Role::kClient, codec::ParserLimits{std::uint64_t{1} << 30}};
};

RawClient::RawClient(std::uint16_t port, int timeout_ms) : parser_(std::make_unique<Parser>()) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RawClient::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool RawClient::fill() {
  char buffer[65536];
  ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) return false;
  pending_.append(buffer, static_cast<std::size_t>(n));
  return true;
}

std::string RawClient::upgrade(std::string_view path, const std::vector<std::string>& extra_headers) {
  std::string request = "GET " + std::string(path) +
                        " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  for (const auto& line : extra_headers) request += line + "\r\n";
  request += "\r\n";
  send_raw(request);
  while (pending_.find("\r\n\r\n") == std::string::npos) {
    if (!fill()) break;
  }
  std::size_t end = pending_.find("\r\n\r\n");
  if (end == std::string::npos) return std::exchange(pending_, {});
  std::string head = pending_.substr(0, end + 4);
  pending_.erase(0, end + 4);
  return head;
}

std::string RawClient::request(std::string_view raw) {
  send_raw(raw);
  while (fill()) {
  }
  return std::exchange(pending_, {});
}

void RawClient::send_frame(Opcode opcode, std::string_view payload, Fin fin) {
  send_raw(codec::make_masked_frame(opcode, payload, {0x12, 0x34, 0x56, 0x78}, fin));
}

void RawClient::send_close(std::uint16_t code, std::string_view reason) {
  send_frame(Opcode::kClose, codec::make_close_payload(code, reason));
}

std::optional<Frame> RawClient::read_frame() {
  while (frames_.empty()) {
    if (pending_.empty() && !fill()) return std::nullopt;
    FrameCollector collector{&frames_};
    std::string bytes = std::exchange(pending_, {});
    if (parser_->parser.consume({bytes.data(), bytes.size()}, collector) == codec::ParseStatus::kFailed) {
      return std::nullopt;
    }
  }
  Frame frame = std::move(frames_.front());
  frames_.pop_front();
  return frame;
}

bool RawClient::wait_for_eof() {
  char buffer[4096];
  while (true) {
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

}  // namespace switchboard::testing
