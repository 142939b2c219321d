#include "server/handshake.h"

#include <string>

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
    handshake.bytes = std::string(kUpgrade) + std::string(extra_headers) + "\r\n";
    EXPECT_EQ(handshake.parser.parse(handshake.bytes, handshake.request), http::ParseStatus::kComplete);
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
  handshake.bytes =
      "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
  ASSERT_EQ(handshake.parser.parse(handshake.bytes, handshake.request), http::ParseStatus::kComplete);
  HandshakeOutcome outcome = decide(handshake, f.config, f.handler, f.router);
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 426"));
  EXPECT_NE(outcome.response.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
}

TEST(Handshake, PlainRequestsGoToTheRoutes) {
  Fixture f;
  f.router.add("GET", "/x", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "x!", {}}; });
  Handshake handshake("127.0.0.1", f.config);
  handshake.bytes = "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(handshake.parser.parse(handshake.bytes, handshake.request), http::ParseStatus::kComplete);
  HandshakeOutcome outcome = decide(handshake, f.config, f.handler, f.router);
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(outcome.response.ends_with("\r\n\r\n"));  // HEAD: no body
  EXPECT_NE(outcome.response.find("Content-Length: 2"), std::string::npos);
}

TEST(Handshake, UpgradeWithABodyIsRefused) {
  Fixture f;
  EXPECT_TRUE(f.run("Content-Length: 3\r\n").response.starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(f.run("Transfer-Encoding: chunked\r\n").response.starts_with("HTTP/1.1 400"));
  EXPECT_EQ(f.run("Content-Length: 0\r\n").kind, HandshakeOutcome::Kind::kUpgrade);
}

// Whether the head alone shows a health check the admission caps let through.
bool health_check(const Router& router, std::string head) {
  ServerConfig config;
  Handshake handshake("127.0.0.1", config);
  handshake.bytes = std::move(head) + "\r\n";
  EXPECT_EQ(handshake.parser.parse(handshake.bytes, handshake.request), http::ParseStatus::kComplete);
  return is_health_check(handshake, router);
}

TEST(Handshake, HealthChecksArePlainGetsOfAHealthRouteWithoutABody) {
  Router router;
  const RouteHandler ok = [](const HttpRequest&) { return HttpResponse{}; };
  router.add("GET", "/healthz", ok, RouteKind::kHealthCheck);
  router.add("POST", "/healthz", ok);
  router.add("GET", "/hello", ok);
  EXPECT_TRUE(health_check(router, "GET /healthz HTTP/1.1\r\nHost: h\r\n"));
  EXPECT_TRUE(health_check(router, "HEAD /healthz HTTP/1.1\r\nHost: h\r\n"));
  EXPECT_TRUE(health_check(router, "GET /healthz?probe=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n"));
  EXPECT_FALSE(health_check(router, "GET /hello HTTP/1.1\r\nHost: h\r\n"));
  EXPECT_FALSE(health_check(router, "GET /nope HTTP/1.1\r\nHost: h\r\n"));
  EXPECT_FALSE(health_check(router, "POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n"));
  EXPECT_FALSE(health_check(router, "GET /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"));
  EXPECT_FALSE(health_check(router, "GET /healthz HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"));
  EXPECT_FALSE(health_check(router, std::string(kUpgrade).replace(4, 3, "/healthz")));
}

// A plain request to the routes, fed like a socket would: `head` first,
// then each piece of `more` after the head is complete.
struct PlainFixture {
  PlainFixture() {
    router.add("POST", "/echo", [](const HttpRequest& request) {
      return HttpResponse{
          200, "application/json", std::string(request.body), {{"X-Length", std::to_string(request.body.size())}}};
    });
    router.add("GET", "/headers", [this](const HttpRequest&) { return HttpResponse{200, "text/plain", "h", headers}; });
    router.add_async("POST", "/later", [](const HttpRequest&, HttpResponder) {});
  }

  HandshakeOutcome head(std::string_view bytes) {
    handshake.bytes = std::string(bytes);
    EXPECT_EQ(handshake.parser.parse(handshake.bytes, handshake.request), http::ParseStatus::kComplete);
    return decide(handshake, config, handler, router);
  }
  HandshakeOutcome more(std::string_view bytes) {
    EXPECT_EQ(handshake.phase, Handshake::Phase::kBody);
    handshake.bytes.append(bytes.substr(0, handshake.body_bytes_missing()));
    return decide_after_body(handshake);
  }

  ServerConfig config;
  PickingHandler handler;
  Router router;
  Handshake handshake{"127.0.0.1", config};
  std::vector<std::pair<std::string, std::string>> headers;
};

TEST(Handshake, BodyInTheSameReadAsTheHead) {
  PlainFixture f;
  HandshakeOutcome outcome = f.head("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  ASSERT_EQ(outcome.kind, HandshakeOutcome::Kind::kRespond);
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 200"));
  EXPECT_TRUE(outcome.response.ends_with("\r\nX-Length: 7\r\n\r\n{\"a\":1}"));
}

TEST(Handshake, BodyAfterTheHeadInPieces) {
  PlainFixture f;
  HandshakeOutcome outcome = f.head("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhel");
  ASSERT_EQ(outcome.kind, HandshakeOutcome::Kind::kReadBody);
  EXPECT_EQ(outcome.response, "");  // no Expect: 100-continue
  EXPECT_EQ(f.handshake.body_bytes_missing(), 8u);
  EXPECT_EQ(f.more("lo ").kind, HandshakeOutcome::Kind::kReadBody);
  // The last piece brings a pipelined request too: it is not part of the body.
  outcome = f.more("world GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(outcome.kind, HandshakeOutcome::Kind::kRespond);
  EXPECT_TRUE(outcome.response.ends_with("\r\n\r\nhello world"));
}

TEST(Handshake, ExpectContinueGetsA100BeforeTheBody) {
  PlainFixture f;
  HandshakeOutcome outcome =
      f.head("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n");
  ASSERT_EQ(outcome.kind, HandshakeOutcome::Kind::kReadBody);
  EXPECT_EQ(outcome.response, "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_TRUE(f.more("ok").response.ends_with("\r\n\r\nok"));
}

TEST(Handshake, ExpectContinueAfterARefusalGetsNo100) {
  PlainFixture f;
  HandshakeOutcome outcome =
      f.head("POST /nope HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(outcome.kind, HandshakeOutcome::Kind::kRespond);
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 404"));
}

TEST(Handshake, TooLargeIsRefusedFromTheHead) {
  PlainFixture f;
  f.config.max_body_size = 10;
  Handshake handshake("127.0.0.1", f.config);
  handshake.bytes = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
  ASSERT_EQ(handshake.parser.parse(handshake.bytes, handshake.request), http::ParseStatus::kComplete);
  HandshakeOutcome outcome = decide(handshake, f.config, f.handler, f.router);
  ASSERT_EQ(outcome.kind, HandshakeOutcome::Kind::kRespond);
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 413 Content Too Large\r\n"));
}

TEST(Handshake, TransferEncodingGets501) {
  PlainFixture f;
  HandshakeOutcome outcome = f.head("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(outcome.kind, HandshakeOutcome::Kind::kRespond);
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 501 Not Implemented\r\n"));
  EXPECT_NE(outcome.response.find("chunked"), std::string::npos);
}

TEST(Handshake, UnknownPathAndMethodAreAnsweredBeforeTheBody) {
  PlainFixture f;
  EXPECT_TRUE(
      f.head("POST /nope HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n").response.starts_with("HTTP/1.1 404"));
  PlainFixture g;
  HandshakeOutcome outcome = g.head("PUT /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
  EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 405"));
  EXPECT_NE(outcome.response.find("\r\nAllow: POST\r\n"), std::string::npos);
}

TEST(Handshake, AsyncRouteGetsItsRequestWithoutTrailingBytes) {
  PlainFixture f;
  HandshakeOutcome outcome = f.head("POST /later HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiEXTRA");
  ASSERT_EQ(outcome.kind, HandshakeOutcome::Kind::kCallAsync);
  ASSERT_NE(f.handshake.route, nullptr);
  EXPECT_TRUE(f.handshake.route->async_handler);
  EXPECT_EQ(f.handshake.bytes.size(), f.handshake.parser.message_size());
  HttpRequest view = view_of(f.handshake);
  EXPECT_EQ(view.body, "hi");
  EXPECT_EQ(view.path, "/later");
  EXPECT_EQ(view.header("Host"), "h");
}

TEST(Handshake, ResponseHeadersAreWrittenInOrder) {
  PlainFixture f;
  f.headers = {{"Retry-After", "5"}, {"WWW-Authenticate", "Bearer realm=\"api\""}, {"Cache-Control", "no-store"}};
  HandshakeOutcome outcome = f.head("GET /headers HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(outcome.response.find("\r\nConnection: close\r\nRetry-After: 5\r\nWWW-Authenticate: Bearer "
                                  "realm=\"api\"\r\nCache-Control: no-store\r\n\r\nh"),
            std::string::npos);
}

TEST(Handshake, UnsafeResponseHeadersGive500) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"X-Split", "a\r\nSet-Cookie: evil=1"},
      {"X-Lf", "a\nb"},
      {"X-Cr", "a\rb"},
      {"X-Nul", std::string("a\0b", 3)},
      {"X-Bad\r\nName", "v"},
      {"Bad Name", "v"},
      {"", "v"},
      {"Content-Length", "0"},
      {"content-type", "text/html"},
      {"Connection", "keep-alive"},
      {"Transfer-Encoding", "chunked"},
  };
  for (const auto& header : bad) {
    SCOPED_TRACE(header.first);
    PlainFixture f;
    f.headers = {{"X-Fine", "1"}, header};
    HandshakeOutcome outcome = f.head("GET /headers HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_TRUE(outcome.response.starts_with("HTTP/1.1 500"));
    EXPECT_EQ(outcome.response.find("X-Fine"), std::string::npos);
    EXPECT_EQ(outcome.response.find("evil"), std::string::npos);
  }
}

TEST(Handshake, AnswerRouteChecksTheContentTypeAndStatusToo) {
  HttpRequest request{"GET", "/", "/", {}, "127.0.0.1"};
  EXPECT_TRUE(answer_route(request, {200, "text/plain\r\nX: y", "b", {}}).starts_with("HTTP/1.1 500"));
  EXPECT_TRUE(answer_route(request, {101, "text/plain", "b", {}}).starts_with("HTTP/1.1 500"));
  EXPECT_TRUE(answer_route(request, {600, "text/plain", "b", {}}).starts_with("HTTP/1.1 500"));
  EXPECT_TRUE(answer_route(request, {204, "", "", {}}).starts_with("HTTP/1.1 204"));
}

TEST(Handshake, HeadAnswersHaveNoBody) {
  HttpRequest request{"HEAD", "/", "/", {}, "127.0.0.1"};
  std::string answer = answer_route(request, {200, "text/plain", "body", {{"X-A", "1"}}});
  EXPECT_TRUE(answer.ends_with("X-A: 1\r\n\r\n"));
  EXPECT_NE(answer.find("Content-Length: 4\r\n"), std::string::npos);
  // No content by status: nothing to cut, the head stays whole.
  EXPECT_TRUE(answer_route(request, {204, "", "", {}}).ends_with("Connection: close\r\n\r\n"));
  EXPECT_TRUE(answer_route(request, {500, "text/plain\n", "", {}}).ends_with("\r\n\r\n"));
}

}  // namespace
}  // namespace switchboard::server
