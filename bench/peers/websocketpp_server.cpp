// Benchmark peer: websocketpp (Debian's 0.8.2) as a single-threaded WebSocket
// server, asio transport without TLS (websocketpp::config::asio).
//
//   websocketpp_server PORT echo|broadcast
//
// echo:      every text/binary message goes back to its sender, same opcode.
// broadcast: every text/binary message goes to every open connection, the
//            sender included, same opcode.
//
// One run() on the main thread. websocketpp answers pings and completes the
// close handshake itself; access and error logging are off so that no log
// line is written per message.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <set>
#include <string_view>

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

namespace {

using Server = websocketpp::server<websocketpp::config::asio>;
using websocketpp::connection_hdl;

constexpr std::size_t kReadMessageMax = std::size_t{16} * 1024 * 1024;

enum class Mode { kEcho, kBroadcast };

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string_view(argv[2]) != "echo" && std::string_view(argv[2]) != "broadcast")) {
    std::fprintf(stderr, "usage: %s PORT echo|broadcast\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
  const Mode mode = std::string_view(argv[2]) == "echo" ? Mode::kEcho : Mode::kBroadcast;

  Server server;
  // Open connections, for broadcast. Only the run() thread touches it.
  std::set<connection_hdl, std::owner_less<connection_hdl>> connections;

  try {
    server.clear_access_channels(websocketpp::log::alevel::all);
    server.clear_error_channels(websocketpp::log::elevel::all);
    server.init_asio();
    server.set_reuse_addr(true);
    server.set_max_message_size(kReadMessageMax);
    // Same socket options as the other peers and Switchboard: no Nagle delay.
    // (Set once accepted: the socket init handler runs before the socket is open.)
    server.set_tcp_post_init_handler([&server](const connection_hdl& hdl) {
      websocketpp::lib::asio::error_code error;
      server.get_con_from_hdl(hdl)->get_raw_socket().set_option(boost::asio::ip::tcp::no_delay(true), error);
    });

    if (mode == Mode::kEcho) {
      server.set_message_handler([&server](const connection_hdl& hdl, const Server::message_ptr& message) {
        websocketpp::lib::error_code error;
        server.send(hdl, message->get_payload(), message->get_opcode(), error);
      });
    } else {
      server.set_open_handler([&connections](const connection_hdl& hdl) { connections.insert(hdl); });
      server.set_close_handler([&connections](const connection_hdl& hdl) { connections.erase(hdl); });
      server.set_fail_handler([&connections](const connection_hdl& hdl) { connections.erase(hdl); });
      server.set_message_handler([&server, &connections](const connection_hdl&, const Server::message_ptr& message) {
        // As websocketpp's broadcast_server example: hand the received
        // message to each connection, which frames its own copy.
        for (const connection_hdl& hdl : connections) {
          websocketpp::lib::error_code error;  // a closing connection only misses this message
          server.send(hdl, message, error);
        }
      });
    }

    server.listen(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    server.start_accept();

    boost::asio::signal_set signals(server.get_io_service(), SIGINT, SIGTERM);
    signals.async_wait([&server](const boost::system::error_code&, int) {
      server.stop_listening();
      server.stop();
    });

    websocketpp::lib::asio::error_code error;
    const auto local = server.get_local_endpoint(error);
    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(local.port()));
    std::fflush(stdout);
    server.run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "websocketpp_server: %s\n", error.what());
    return 1;
  }
  return 0;
}
