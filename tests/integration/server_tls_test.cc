// The embedding API's TLS (ServerConfig::tls_*, Server::tls_port,
// Server::reload_tls) end to end with a blocking OpenSSL client on
// loopback and the checked-in test certificates (tests/data/tls: a CA and
// a certificate for localhost/127.0.0.1 that it signed, which also serves
// as a client certificate): the client certificate's subject reaches the
// handler (HttpRequest::tls_client_subject), a plain and a TLS port at
// once, a reload, and start() refusing a missing key.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "switchboard/server.h"

namespace switchboard {
namespace {

const std::string kDir = SB_TEST_TLS_DIR;

class Silent : public WebSocketHandler {
 public:
  void on_message(Connection&, std::string_view, Opcode) override {}
};

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{10, 0};  // no read may hang the test
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One request over TLS (trusting the test CA, presenting the test
// certificate when with_certificate), the whole answer back; "" when the
// handshake or the exchange failed.
std::string https_get(std::uint16_t port, const std::string& path, bool with_certificate) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(context, (kDir + "/ca.pem").c_str(), nullptr);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  if (with_certificate) {
    SSL_CTX_use_certificate_chain_file(context, (kDir + "/server.pem").c_str());
    SSL_CTX_use_PrivateKey_file(context, (kDir + "/server.key").c_str(), SSL_FILETYPE_PEM);
  }
  std::string answer;
  const int fd = connect_loopback(port);
  SSL* ssl = SSL_new(context);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (fd >= 0 && SSL_connect(ssl) == 1) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
      char buffer[4096];
      for (int n; (n = SSL_read(ssl, buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  SSL_free(ssl);
  if (fd >= 0) ::close(fd);
  SSL_CTX_free(context);
  return answer;
}

std::string body_of(const std::string& answer) {
  const auto end = answer.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : answer.substr(end + 4);
}

ServerConfig tls_config() {
  ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.workers = 1;
  config.handle_signals = HandleSignals::kNo;
  config.tls_cert_file = kDir + "/server.pem";
  config.tls_key_file = kDir + "/server.key";
  return config;
}

void add_whoami(Server& server) {
  server.route("GET", "/whoami", [](const HttpRequest& request) {
    return HttpResponse{200, "text/plain", "subject=" + std::string(request.tls_client_subject), {}};
  });
}

TEST(ServerTls, TheClientCertificatesSubjectReachesTheHandler) {
  ServerConfig config = tls_config();
  config.tls_ca_file = kDir + "/ca.pem";
  config.tls_client_auth = TlsClientAuth::kOptional;
  Silent handler;
  Server server(config, handler);
  add_whoami(server);
  server.start();
  EXPECT_EQ(server.tls_port(), server.port());
  EXPECT_EQ(body_of(https_get(server.port(), "/whoami", true)), "subject=CN=localhost");
  EXPECT_EQ(body_of(https_get(server.port(), "/whoami", false)), "subject=");
}

TEST(ServerTls, ARequiredClientCertificateRefusesAClientWithout) {
  ServerConfig config = tls_config();
  config.tls_ca_file = kDir + "/ca.pem";
  config.tls_client_auth = TlsClientAuth::kRequired;
  Silent handler;
  Server server(config, handler);
  add_whoami(server);
  server.start();
  EXPECT_EQ(body_of(https_get(server.port(), "/whoami", true)), "subject=CN=localhost");
  EXPECT_EQ(https_get(server.port(), "/whoami", false), "");
  // Counted on the worker once the alert is out: the client may see it first.
  for (int i = 0; i < 500 && server.stats().tls_failed_protocol == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling, bounded at 5 s
  }
  EXPECT_EQ(server.stats().tls_failed_protocol, 1u);
}

TEST(ServerTls, APlainPortAndATlsPortAtOnce) {
  ServerConfig config = tls_config();
  config.tls_port = 0;
  Silent handler;
  Server server(config, handler);
  add_whoami(server);
  server.start();
  ASSERT_NE(server.tls_port(), 0);
  EXPECT_NE(server.tls_port(), server.port());
  EXPECT_EQ(body_of(https_get(server.tls_port(), "/whoami", false)), "subject=");
  EXPECT_EQ(https_get(server.port(), "/whoami", false), "");  // plain: no TLS handshake there
}

TEST(ServerTls, ReloadRereadsTheFilesAndStartRefusesAMissingKey) {
  ServerConfig config = tls_config();
  Silent handler;
  Server server(config, handler);
  add_whoami(server);
  server.start();
  EXPECT_EQ(server.reload_tls(), "");
  EXPECT_EQ(body_of(https_get(server.port(), "/whoami", false)), "subject=");
  // (A file that breaks between start and reload: tls_reload_test.py.)
  ServerConfig missing = tls_config();
  missing.tls_key_file = kDir + "/no-such.key";
  Server broken(missing, handler);
  EXPECT_THROW(broken.start(), std::runtime_error);
}

}  // namespace
}  // namespace switchboard
