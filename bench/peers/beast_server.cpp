// Benchmark peer: Boost.Beast (Debian's Boost 1.74) as a single-threaded
// WebSocket server, written the way Beast's own examples are.
//
//   beast_server PORT echo|broadcast
//
// echo:      every text/binary message goes back to its sender, same opcode
//            (Beast's websocket_server_async pattern: read, write, read).
// broadcast: every text/binary message goes to every open session, the sender
//            included, same opcode. Each session keeps its own queue of
//            shared_ptr<const std::string> so that one write is in flight per
//            session (Beast's advanced/server-flex "chat" pattern).
//
// One io_context, run on the main thread; no strands (nothing else runs
// handlers). Beast answers pings and completes the close handshake itself.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::size_t kReadMessageMax = std::size_t{16} * 1024 * 1024;

enum class Mode { kEcho, kBroadcast };

class Session;

// The open sessions, for broadcast. Only the io_context thread touches it.
struct Room {
  std::unordered_set<Session*> sessions;
};

// One queued outgoing message; the payload is shared by every recipient.
struct Outgoing {
  std::shared_ptr<const std::string> payload;
  bool text;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Mode mode, Room& room) : ws_(std::move(socket)), mode_(mode), room_(room) {}

  ~Session() {
    if (joined_) room_.sessions.erase(this);
  }

  void run() {
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true));
    // No idle timeout: broadcast subscribers never send, and must not be
    // dropped for it. The handshake still has a deadline.
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = std::chrono::seconds(30);
    timeout.idle_timeout = websocket::stream_base::none();
    timeout.keep_alive_pings = false;
    ws_.set_option(timeout);
    ws_.auto_fragment(false);
    ws_.read_message_max(kReadMessageMax);
    ws_.async_accept([self = shared_from_this()](beast::error_code error) { self->on_accept(error); });
  }

 private:
  void on_accept(beast::error_code error) {
    if (error) return;
    if (mode_ == Mode::kBroadcast) {
      room_.sessions.insert(this);
      joined_ = true;
    }
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_,
                   [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_read(error); });
  }

  void on_read(beast::error_code error) {
    if (error) return;  // closed (handshake done by Beast) or failed: the session ends
    if (mode_ == Mode::kEcho) {
      // Read again only once the echo is written: one buffer, no queue.
      ws_.text(ws_.got_text());
      ws_.async_write(buffer_.data(), [self = shared_from_this()](beast::error_code write_error, std::size_t) {
        if (write_error) return;
        self->buffer_.consume(self->buffer_.size());
        self->do_read();
      });
      return;
    }
    auto payload = std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data()));
    buffer_.consume(buffer_.size());
    const bool text = ws_.got_text();
    for (Session* session : room_.sessions) session->send(Outgoing{payload, text});
    do_read();
  }

  void send(Outgoing message) {
    queue_.push_back(std::move(message));
    if (queue_.size() > 1) return;  // a write is in flight; on_write picks this up
    do_write();
  }

  void do_write() {
    const Outgoing& next = queue_.front();
    ws_.text(next.text);
    ws_.async_write(asio::buffer(*next.payload),
                    [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_write(error); });
  }

  void on_write(beast::error_code error) {
    if (error) return;
    queue_.pop_front();
    if (!queue_.empty()) do_write();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<Outgoing> queue_;
  Mode mode_;
  Room& room_;
  bool joined_ = false;
};

class Listener {
 public:
  Listener(asio::io_context& io, const tcp::endpoint& endpoint, Mode mode, Room& room)
      : io_(io), acceptor_(io), mode_(mode), room_(room) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  void do_accept() {
    acceptor_.async_accept(io_, [this](beast::error_code error, tcp::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (!error) std::make_shared<Session>(std::move(socket), mode_, room_)->run();
      do_accept();
    });
  }

  void close() { acceptor_.close(); }

 private:
  asio::io_context& io_;
  tcp::acceptor acceptor_;
  Mode mode_;
  Room& room_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string_view(argv[2]) != "echo" && std::string_view(argv[2]) != "broadcast")) {
    std::fprintf(stderr, "usage: %s PORT echo|broadcast\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const Mode mode = std::string_view(argv[2]) == "echo" ? Mode::kEcho : Mode::kBroadcast;

  try {
    // Declared before the io_context so it outlives it: destroying the
    // io_context destroys the pending handlers, and with them the sessions,
    // whose destructors leave the room.
    Room room;
    asio::io_context io(1);
    Listener listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), mode, room);
    listener.do_accept();

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) {
      listener.close();
      io.stop();
    });

    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(listener.port()));
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "beast_server: %s\n", error.what());
    return 1;
  }
  return 0;
}
