#include "client/transport.h"

#include <array>
#include <cstdlib>

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

// One line for a failed stream: what failed, then why.
std::string describe(const char* what, const loop::StreamError& error) {
  return std::string(what) + ": " + error.message();
}

}  // namespace

Transport::Transport(loop::EventLoop& loop, TransportOwner& owner, const TransportSettings& settings)
    : loop_(loop),
      owner_(owner),
      settings_(settings),
      stream_(loop, *this),
      parser_(codec::Role::kClient, {settings.max_message_size}) {}

Transport::~Transport() { *alive_ = false; }

void Transport::start() {
  if (state_ != State::kIdle) return;
  state_ = State::kConnecting;
  loop::StreamTarget target;
  target.address = reinterpret_cast<const sockaddr*>(&settings_.endpoint.address);
  target.address_size = settings_.endpoint.size;
  target.tls = settings_.tls.get();
  target.tls_host = settings_.url.host;
  if (!stream_.connect(target)) on_stream_failed(stream_.error());
}

void Transport::on_stream_open() { send_upgrade(); }

void Transport::on_stream_failed(const loop::StreamError& error) {
  using loop::StreamFailure;
  switch (error.failure) {
    case StreamFailure::kSocket:
      end({EndKind::kConnectFailed, describe("socket", error)});
      return;
    case StreamFailure::kConnect:
      end({.kind = EndKind::kConnectFailed, .reason = describe("connect", error), .system_error = error.system_error});
      return;
    case StreamFailure::kTlsHandshake:
      end({EndKind::kTlsFailed,
           "TLS: " + (error.tls_error.empty() ? std::string("connection closed") : error.tls_error)});
      return;
    case StreamFailure::kWrite:
      end({EndKind::kLost, describe("write", error), 1006});
      return;
    case StreamFailure::kPeerClosed:
    case StreamFailure::kRead:
      break;
  }
  if (settings_.tls != nullptr) {
    end({EndKind::kLost, error.tls_error.empty() ? "connection lost" : error.tls_error, 1006});
  } else if (error.failure == StreamFailure::kPeerClosed) {
    end({EndKind::kLost, "connection lost (EOF)", 1006});
  } else {
    end({EndKind::kLost, describe("connection lost", error), 1006});
  }
}

void Transport::send_upgrade() {
  state_ = State::kUpgrading;
  key_ = make_client_key(random_bytes<16>());
  stream_.write_buffer() += make_upgrade_request(settings_.url, key_, settings_.headers, settings_.subprotocol);
  flush();
}

void Transport::on_stream_data(char* data, std::size_t size) {
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
  flush();
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
  std::string& out = stream_.write_buffer();
  out.append(header, header_size);
  const std::size_t start = out.size();
  out.append(payload);
  codec::apply_mask(out.data() + start, payload.size(), key);
}

void Transport::send_text(std::string_view text) {
  if (state_ != State::kOpen) return;
  queue_frame(Opcode::kText, text);
  flush();
}

bool Transport::flush() {
  if (stream_.flush() != loop::WriteStatus::kFailed) return true;
  end_later({EndKind::kLost, describe("write", stream_.error()), 1006});
  return false;
}

void Transport::close(std::uint16_t code) {
  if (state_ == State::kDone) return;
  if (state_ == State::kOpen) {
    queue_frame(Opcode::kClose, codec::make_close_payload(code, ""));
    stream_.flush();  // best effort: the socket goes now either way
  }
  state_ = State::kDone;
  stream_.close();
}

void Transport::end(TransportEnd end) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  stream_.close();
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
