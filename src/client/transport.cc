#include "client/transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <openssl/rand.h>

#include "client/handshake.h"
#include "codec/frame_writer.h"
#include "codec/mask.h"

namespace switchboard::client {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> random_bytes() {
  std::array<std::uint8_t, N> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(N)) != 1) {
    // RAND_bytes fails only without entropy; a mask key need not be secret
    // from us, only unpredictable to scripts in the browser case (§10.3).
    for (auto& byte : bytes) byte = static_cast<std::uint8_t>(std::rand());
  }
  return bytes;
}

std::string errno_text(const char* what, int error) { return std::string(what) + ": " + std::strerror(error); }

}  // namespace

Transport::Transport(loop::EventLoop& loop, TransportOwner& owner, const TransportSettings& settings)
    : loop_(loop), owner_(owner), settings_(settings), parser_(codec::Role::kClient, {settings.max_message_size}) {}

Transport::~Transport() {
  *alive_ = false;
  close_socket();
}

void Transport::start() {
  if (state_ != State::kIdle) return;
  state_ = State::kConnecting;
  const Endpoint& target = settings_.endpoint;
  fd_ = ::socket(target.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    end({EndKind::kConnectFailed, errno_text("socket", errno)});
    return;
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&target.address), target.size) != 0 && errno != EINPROGRESS) {
    end({EndKind::kConnectFailed, errno_text("connect", errno)});
    return;
  }
  // Writable once connect(2) has finished, either way (SO_ERROR says how).
  loop_.add(fd_, *this, loop::Interest::kWrite);
  registered_ = true;
  watching_write_ = true;
}

void Transport::on_io(std::uint32_t events) {
  switch (state_) {
    case State::kIdle:
    case State::kDone:
      return;  // a stale event from the same epoll batch
    case State::kConnecting:
      on_connect_result();
      return;
    case State::kTls:
      continue_tls();
      return;
    case State::kUpgrading:
    case State::kOpen:
      break;
  }
  if (out_offset_ < out_.size() && !flush()) return;
  // TLS: a read may be what a write waited for and the reverse, so any
  // event tries both (a read with nothing there just says kWantRead).
  if (tls_ != nullptr || (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) read_available();
  update_interest();
}

void Transport::on_connect_result() {
  int error = 0;
  socklen_t size = sizeof error;
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error != 0) {
    end({EndKind::kConnectFailed, errno_text("connect", error)});
    return;
  }
  if (settings_.tls != nullptr) {
    tls_ = std::make_unique<loop::TlsSession>(*settings_.tls, fd_, settings_.url.host);
    state_ = State::kTls;
    continue_tls();
    return;
  }
  send_upgrade();
}

void Transport::continue_tls() {
  switch (tls_->handshake()) {
    case loop::TlsStatus::kDone:
      tls_wants_write_ = false;
      send_upgrade();
      return;
    case loop::TlsStatus::kWantRead:
      tls_wants_write_ = false;
      update_interest();
      return;
    case loop::TlsStatus::kWantWrite:
      tls_wants_write_ = true;
      update_interest();
      return;
    case loop::TlsStatus::kClosed:
    case loop::TlsStatus::kFailed:
      end({EndKind::kTlsFailed, "TLS: " + (tls_->error().empty() ? std::string("connection closed") : tls_->error())});
      return;
  }
}

void Transport::send_upgrade() {
  state_ = State::kUpgrading;
  key_ = make_client_key(random_bytes<16>());
  out_ += make_upgrade_request(settings_.url, key_, settings_.headers, settings_.subprotocol);
  if (flush()) update_interest();
}

void Transport::read_available() {
  char* buffer = loop_.receive_buffer();
  tls_wants_write_ = false;
  // One read per readiness event for plain TCP (level-triggered epoll
  // comes back); with TLS, also what OpenSSL already decrypted and holds.
  do {
    std::size_t size = 0;
    if (tls_ != nullptr) {
      const loop::TlsStatus status = tls_->read(buffer, loop::EventLoop::kReceiveBufferSize, &size);
      if (status == loop::TlsStatus::kWantRead) return;
      if (status == loop::TlsStatus::kWantWrite) {
        tls_wants_write_ = true;
        update_interest();
        return;
      }
      if (status != loop::TlsStatus::kDone) {
        end({EndKind::kLost, tls_->error().empty() ? "connection lost" : tls_->error(), 1006});
        return;
      }
    } else {
      const ssize_t result = ::recv(fd_, buffer, loop::EventLoop::kReceiveBufferSize, 0);
      if (result < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
      if (result <= 0) {
        end({EndKind::kLost, result == 0 ? "connection lost (EOF)" : errno_text("connection lost", errno), 1006});
        return;
      }
      size = static_cast<std::size_t>(result);
    }
    on_bytes(buffer, size);
  } while (state_ != State::kDone && tls_ != nullptr && tls_->has_pending());
}

void Transport::on_bytes(char* data, std::size_t size) {
  owner_.on_transport_activity();
  if (state_ == State::kUpgrading) {
    on_upgrade_bytes(data, size);
  } else if (state_ == State::kOpen) {
    on_frames(data, size);
  }
}

void Transport::on_upgrade_bytes(const char* data, std::size_t size) {
  response_.append(data, size);
  const std::size_t head_size = response_head_size(response_);
  if (head_size == 0) {
    if (response_.size() > kMaxResponseHead) end({EndKind::kUpgradeRefused, describe(HandshakeError::kHeadTooLarge)});
    return;
  }
  const std::string_view head = std::string_view(response_).substr(0, head_size);
  int status = 0;
  const HandshakeError error = check_upgrade_response(head, key_, settings_.subprotocol, &status);
  if (error == HandshakeError::kNone && find_header(head, "Sec-WebSocket-Protocol") != settings_.subprotocol) {
    // check_upgrade_response allows no subprotocol at all; we asked for one
    // and speak nothing else.
    end({EndKind::kUpgradeRefused, "the server did not accept the subprotocol " + settings_.subprotocol, 0, status});
    return;
  }
  if (error != HandshakeError::kNone) {
    TransportEnd failure{EndKind::kUpgradeRefused, std::string("upgrade refused: ") + describe(error), 0, status};
    if (status != 0 && error == HandshakeError::kNotSwitching)
      failure.reason += " (HTTP " + std::to_string(status) + ")";
    if (status == 429 || status == 503) {
      if (auto value = find_header(head, "Retry-After")) failure.retry_after_s = parse_retry_after_s(*value);
    }
    end(std::move(failure));
    return;
  }
  state_ = State::kOpen;
  std::string rest = response_.substr(head_size);  // frames may follow the head in the same read
  std::string().swap(response_);
  owner_.on_transport_open();
  if (!rest.empty() && state_ == State::kOpen) on_frames(rest.data(), rest.size());
}

void Transport::on_frames(char* data, std::size_t size) {
  const codec::ParseStatus status = parser_.consume(std::span<char>(data, size), *this);
  if (state_ == State::kDone) return;
  if (status == codec::ParseStatus::kFailed) {
    const codec::Violation violation = parser_.violation();
    const auto code = static_cast<std::uint16_t>(codec::close_code_for(violation));
    queue_frame(Opcode::kClose, codec::make_close_payload(code, codec::describe(violation)));
    flush();
    if (state_ != State::kDone) {
      end({EndKind::kProtocolError, std::string("protocol error: ") + codec::describe(violation), code});
    }
    return;
  }
  if (!flush()) return;
  update_interest();
}

codec::Flow Transport::on_message(Opcode opcode, std::string_view payload) {
  // Protocol v1 speaks text only; a binary message is not ours to read.
  if (opcode == Opcode::kText) owner_.on_transport_text(payload);
  return state_ == State::kOpen ? codec::Flow::kContinue : codec::Flow::kStop;
}

codec::Flow Transport::on_ping(std::string_view payload) {
  queue_frame(Opcode::kPong, payload);  // RFC 6455 §5.5.3: the same payload
  return codec::Flow::kContinue;
}

codec::Flow Transport::on_pong(std::string_view) { return codec::Flow::kContinue; }

codec::Flow Transport::on_close(CloseCode code, std::string_view reason) {
  // RFC 6455 §5.5.1: echo the code. The server closes TCP once it has our
  // close; we do not wait for that (nothing else can come).
  const auto number = static_cast<std::uint16_t>(code);
  if (code == CloseCode::kNoStatus) {
    queue_frame(Opcode::kClose, {});
  } else {
    queue_frame(Opcode::kClose, codec::make_close_payload(number, ""));
  }
  flush();
  if (state_ == State::kDone) return codec::Flow::kStop;
  std::string text = "close " + std::to_string(number);
  if (!reason.empty()) text += " " + std::string(reason);
  end({EndKind::kClosedByServer, std::move(text), number});
  return codec::Flow::kStop;
}

void Transport::queue_frame(Opcode opcode, std::string_view payload) {
  const auto key_bytes = random_bytes<4>();
  const codec::MaskKey key = {key_bytes[0], key_bytes[1], key_bytes[2], key_bytes[3]};
  char header[codec::kMaxFrameHeaderSize];
  const std::size_t header_size = codec::write_frame_header(header, opcode, Fin::kYes, payload.size(), &key);
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  out_.append(header, header_size);
  const std::size_t start = out_.size();
  out_.append(payload);
  codec::apply_mask(out_.data() + start, payload.size(), key);
}

void Transport::send_text(std::string_view text) {
  if (state_ != State::kOpen) return;
  queue_frame(Opcode::kText, text);
  // Writes inside a callback of ours (a reply to a message being read) are
  // flushed when the read's frames are done; the rest go out now.
  if (!flush()) return;
  update_interest();
}

bool Transport::flush() {
  while (out_offset_ < out_.size()) {
    const char* data = out_.data() + out_offset_;
    const std::size_t size = out_.size() - out_offset_;
    std::size_t moved = 0;
    if (tls_ != nullptr) {
      const loop::TlsStatus status = tls_->write(data, size, &moved);
      if (status == loop::TlsStatus::kWantWrite || status == loop::TlsStatus::kWantRead) break;
      if (status != loop::TlsStatus::kDone) {
        end_later({EndKind::kLost, "write: " + tls_->error(), 1006});
        return false;
      }
    } else {
      const ssize_t result = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (result < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        end_later({EndKind::kLost, errno_text("write", errno), 1006});
        return false;
      }
      moved = static_cast<std::size_t>(result);
    }
    out_offset_ += moved;
  }
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  return true;
}

void Transport::update_interest() {
  if (!registered_ || state_ == State::kDone) return;
  const bool want_write = out_offset_ < out_.size() || tls_wants_write_;
  if (want_write == watching_write_ && state_ != State::kTls) return;
  watching_write_ = want_write;
  loop_.modify(fd_, *this, want_write ? loop::Interest::kReadWrite : loop::Interest::kRead);
}

void Transport::close(std::uint16_t code) {
  if (state_ == State::kDone) return;
  if (state_ == State::kOpen) {
    queue_frame(Opcode::kClose, codec::make_close_payload(code, ""));
    flush();  // best effort: the socket goes now either way
  }
  state_ = State::kDone;
  close_socket();
}

void Transport::close_socket() {
  if (fd_ < 0) return;
  if (registered_) loop_.remove(fd_);
  registered_ = false;
  tls_.reset();
  ::close(fd_);
  fd_ = -1;
}

void Transport::end(TransportEnd end) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  close_socket();
  std::string().swap(response_);
  owner_.on_transport_end(end);
}

void Transport::end_later(TransportEnd end) {
  // A write failed inside send_text() (maybe inside an owner call): the
  // owner hears of it from a fresh stack. Reads fail too, and may be first.
  if (end_posted_) return;
  end_posted_ = true;
  loop_.post([this, alive = alive_, end = std::move(end)]() mutable {
    if (*alive) this->end(std::move(end));
  });
}

}  // namespace switchboard::client
