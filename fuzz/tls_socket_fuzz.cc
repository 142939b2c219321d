// libFuzzer target for the server's TLS path: TcpSocket with start_tls on
// one end of a socketpair, decrypting into a receive buffer that feeds the
// frame parser (server role) and echoing each message back through its
// TLS writes, as ServerConnection does. The client is OpenSSL over a memory
// BIO pair, so the fuzzer controls every ciphertext byte on the wire:
//
//   data[0] bit 0: raw mode: the input goes to the server as it is, no
//                  handshake (garbage, a plain HTTP request, a truncated
//                  ClientHello);
//           bit 1: flip one ciphertext byte (at data[1] * 7) after the
//                  handshake: a tampered record must fail cleanly;
//           bit 2: wrap the rest in masked binary frames (sizes from the
//                  input) instead of sending it as bytes;
//   data[2]: the chunk size the ciphertext is written to the socket in.
//
// Any crash, leak or sanitizer report is a bug; so is the server reading
// more than was sent.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "codec/frame_parser.h"
#include "codec/frame_writer.h"
#include "loop/event_loop.h"
#include "loop/tcp_socket.h"
#include "loop/tls_server_context.h"

namespace {

using switchboard::CloseCode;
using switchboard::Opcode;
using switchboard::codec::Flow;
namespace loop = switchboard::loop;

struct Ignore : loop::IoHandler {
  void on_io(std::uint32_t) override {}
};

// Echoes each message back through the socket, as a handler would.
struct EchoSink {
  loop::TcpSocket* socket;
  Flow on_message(Opcode opcode, std::string_view payload) {
    char header[switchboard::codec::kMaxFrameHeaderSize];
    const std::size_t length =
        switchboard::codec::write_frame_header(header, opcode, switchboard::Fin::kYes, payload.size(), nullptr);
    socket->write({{header, length}, payload});
    return Flow::kContinue;
  }
  Flow on_ping(std::string_view) { return Flow::kContinue; }
  Flow on_pong(std::string_view) { return Flow::kContinue; }
  Flow on_close(CloseCode, std::string_view) { return Flow::kStop; }
};

struct Fixture {
  loop::EventLoop event_loop;
  std::shared_ptr<const loop::TlsServerContext> server_context;
  SSL_CTX* client_context = nullptr;
  Fixture() {
    loop::TlsServerConfig config;
    config.cert_file = SB_TEST_TLS_DIR "/server.pem";
    config.key_file = SB_TEST_TLS_DIR "/server.key";
    auto made = loop::TlsServerContext::create(config);
    if (!made) std::abort();
    server_context = *made;
    client_context = SSL_CTX_new(TLS_client_method());  // no verification: the fuzzer is the peer
  }
};

Fixture& fixture() {
  static Fixture* made = new Fixture();
  return *made;
}

// Moves what the client's SSL wrote into the socket, chunk bytes at a time.
void pump_to_server(BIO* network, int fd, std::size_t chunk, std::size_t* sent, std::size_t flip_at, bool flip) {
  char buffer[4096];
  for (int n; (n = BIO_read(network, buffer, static_cast<int>(std::min(chunk, sizeof buffer)))) > 0;) {
    // Counted from the end of the handshake on, where the flip applies.
    for (int i = 0; flip && i < n; ++i, ++*sent) {
      if (*sent == flip_at) buffer[i] ^= 0x5a;
    }
    if (::send(fd, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) < 0) return;
  }
}

// Moves what the server wrote into the client's SSL.
void pump_to_client(BIO* network, int fd) {
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0;)
    BIO_write(network, buffer, static_cast<int>(n));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  Fixture& f = fixture();
  const bool raw = data[0] & 1, flip = data[0] & 2, framed = data[0] & 4;
  const std::size_t flip_at = static_cast<std::size_t>(data[1]) * 7;
  const std::size_t chunk = data[2] == 0 ? 4096 : data[2];
  std::string input(reinterpret_cast<const char*>(data) + 3, size - 3);

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  Ignore ignore;
  loop::TcpSocket server;
  server.open(f.event_loop, fds[0], ignore);
  if (!server.start_tls(f.server_context->get())) std::abort();
  switchboard::codec::FrameParser parser(switchboard::codec::Role::kServer, switchboard::codec::ParserLimits{1u << 20});
  EchoSink sink{&server};
  static char receive[64 * 1024];

  SSL* client = SSL_new(f.client_context);
  BIO* inner = nullptr;
  BIO* network = nullptr;
  BIO_new_bio_pair(&inner, 1 << 17, &network, 1 << 17);
  SSL_set_bio(client, inner, inner);
  SSL_set_connect_state(client);

  if (raw) {
    ::send(fds[1], input.data(), input.size(), MSG_NOSIGNAL);
  } else if (framed) {
    // Masked binary frames whose sizes come from the input's bytes.
    std::string frames;
    std::size_t at = 0;
    const switchboard::codec::MaskKey mask = {1, 2, 3, 4};
    while (at < input.size()) {
      const std::size_t length =
          std::min<std::size_t>(input.size() - at, 1 + static_cast<unsigned char>(input[at]) * 97);
      char header[switchboard::codec::kMaxFrameHeaderSize];
      const std::size_t header_size =
          switchboard::codec::write_frame_header(header, Opcode::kBinary, switchboard::Fin::kYes, length, &mask);
      frames.append(header, header_size);
      for (std::size_t i = 0; i < length; ++i) frames.push_back(static_cast<char>(input[at + i] ^ mask[i % 4]));
      at += length;
    }
    input = std::move(frames);
  }

  std::size_t sent = 0, written = 0;
  bool server_done = false;
  for (int round = 0; round < 400 && !server_done; ++round) {
    if (!raw) {
      if (SSL_is_init_finished(client) != 1) {
        SSL_do_handshake(client);
      } else if (written < input.size()) {
        std::size_t moved = 0;
        if (SSL_write_ex(client, input.data() + written, std::min<std::size_t>(input.size() - written, 20000),
                         &moved) == 1) {
          written += moved;
        }
      }
      pump_to_server(network, fds[1], chunk, &sent, flip_at, flip && SSL_is_init_finished(client) == 1);
    }
    const loop::ReadResult result = server.read(receive, sizeof receive);
    switch (result.status) {
      case loop::ReadStatus::kData:
        if (parser.consume({receive, result.size}, sink) == switchboard::codec::ParseStatus::kFailed)
          server_done = true;
        break;
      case loop::ReadStatus::kWouldBlock:
        if (raw || (SSL_is_init_finished(client) == 1 && written == input.size() && round > 8)) server_done = true;
        break;
      case loop::ReadStatus::kEof:
      case loop::ReadStatus::kFailed:
        server_done = true;
        break;
    }
    server.flush();
    pump_to_client(network, fds[1]);
    char sink_buffer[16384];
    while (SSL_read(client, sink_buffer, sizeof sink_buffer) > 0) {
    }
  }
  server.shutdown_write();
  server.close();
  SSL_free(client);
  BIO_free(network);
  ::close(fds[1]);
  return 0;
}
