#include "server/handshake.h"

#include <gtest/gtest.h>

#include "server/router.h"

namespace switchboard::server {
namespace {

class PickingHandler : public WebSocketHandler {
 public:
  UpgradeDecision on_upgrade(const HttpRequest& request, std::span<const std::string_view> offered) override {
    seen_offered.assign(offered.begin(), offered.end());
    if (request.header("Authorization") == "nope") return {401, "bad token", {}};
    return {0, {}, choice};
  }
  void on_message(Connection&, std::string_view, Opcode) override {}
  std::string choice;
  std::vector<std::string> seen_offered;
};

constexpr std::string_view kUpgrade =
    "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

struct Fixture {
  ServerConfig config;
  PickingHandler handler;
  Router router;

  HandshakeOutcome run(std::string_view extra_headers) {
    Handshake handshake("127.0.0.1", config);
    handshake.head = std::string(kUpgrade) + std::string(extra_headers) + "\r\n";
    EXPECT_EQ(handshake.parser.parse(handshake.head, handshake.request), http::ParseStatus::kComplete);
    return decide(handshake, config, handler, router);
  }
};

TEST(Handshake, AcceptsWithTheRfcAcceptKey) {
  Fixture f;
  HandshakeOutcome outcome = f.run("");
  ASSERT_EQ(outcome.kind, HandshakeOutcome::Kind::kUpgrade);
  EXPECT_NE(outcome.response.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  EXPECT_EQ(outcome.response.find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST(Handshake, OfferedSubprotocolsFromSeveralHeadersInOrder) {
  Fixture f;
  f.handler.choice = "b";
  HandshakeOutcome outcome = f.run("Sec-WebSocket-Protocol: a, b\r\nsec-websocket-protocol:  c \r\n");
  EXPECT_EQ(f.handler.seen_offered, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(outcome.kind, HandshakeOutcome::Kind::kUpgrade);
  EXPECT_NE(outcome.response.find("Sec-WebSocket-Protocol: b\r\n"), std::string::npos);
}

TEST(Handshake, AChoiceTheClientDidNotOfferIsRefused) {
  Fixture f;
  f.handler.choice = "zzz";
  HandshakeOutcome outcome = f.run("Sec-WebSocket-Protocol: a\r\n");
  EXPECT_EQ(outcome.kind, HandshakeOutcome::Kind::kRespond);
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 500"));
}

TEST(Handshake, HandlerRejection) {
  Fixture f;
  HandshakeOutcome outcome = f.run("Authorization: nope\r\n");
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 401"));
  EXPECT_NE(outcome.response.find("bad token"), std::string::npos);
}

TEST(Handshake, OriginAllowList) {
  Fixture f;
  f.config.allowed_origins = {"https://a.example"};
  EXPECT_TRUE(f.run("Origin: https://b.example\r\n").response.starts_with("HTTP/1.1 403"));
  EXPECT_TRUE(f.run("").response.starts_with("HTTP/1.1 403"));  // no Origin at all
  EXPECT_EQ(f.run("Origin: https://a.example\r\n").kind, HandshakeOutcome::Kind::kUpgrade);
}

TEST(Handshake, VersionMismatchGets426WithTheSupportedVersion) {
  Fixture f;
  Handshake handshake("127.0.0.1", f.config);
  handshake.head =
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
  ASSERT_EQ(handshake.parser.parse(handshake.head, handshake.request), http::ParseStatus::kComplete);
  HandshakeOutcome outcome = decide(handshake, f.config, f.handler, f.router);
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 426"));
  EXPECT_NE(outcome.response.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
}

TEST(Handshake, PlainRequestsGoToTheRoutes) {
  Fixture f;
  f.router.add("GET", "/x", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "x!"}; });
  Handshake handshake("127.0.0.1", f.config);
  handshake.head = "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(handshake.parser.parse(handshake.head, handshake.request), http::ParseStatus::kComplete);
  HandshakeOutcome outcome = decide(handshake, f.config, f.handler, f.router);
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(outcome.response.ends_with("\r\n\r\n"));  // HEAD: no body
  EXPECT_NE(outcome.response.find("Content-Length: 2"), std::string::npos);
}

}  // namespace
}  // namespace switchboard::server
