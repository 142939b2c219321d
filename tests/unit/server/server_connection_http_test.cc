// ServerConnection over a socketpair as a plain HTTP connection: a route's
// answer (with the request body), an async route answered later or not in
// time (504), a client that leaves while its answer is pending, and a body
// over the limit (413). Every answer ends the connection.
#include <string>

#include <gtest/gtest.h>

#include "server_connection_fixture.h"

namespace switchboard::server::testing {
namespace {

std::string post(std::string_view path, std::string_view body) {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

class ServerConnectionHttpTest : public ServerConnectionTest {
 protected:
  void start_with_routes() {
    start([this](Router& router) {
      router.add("POST", "/echo", [](const HttpRequest& request) {
        return HttpResponse{200, "text/plain", "got " + std::string(request.body), {}};
      });
      router.add_async("POST", "/jobs", jobs_.handler());
    });
  }

  // The whole answer, read until the server closes.
  static std::string answer_to(Peer& peer) {
    std::string head = peer.read_head();
    EXPECT_TRUE(peer.reads_eof()) << head;
    return head;
  }

  Jobs jobs_;
};

TEST_F(ServerConnectionHttpTest, ARouteGetsTheBodyAndItsAnswerClosesTheConnection) {
  start_with_routes();
  Peer peer = running_->adopt();
  ASSERT_TRUE(peer.send(post("/echo", "hello")));
  const std::string head = peer.read_head();
  EXPECT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Length: 9\r\n"), std::string::npos) << head;
  EXPECT_EQ(peer.read_to_eof(), "got hello");
}

TEST_F(ServerConnectionHttpTest, ABodyOverTheLimitGets413) {
  config_.max_body_size = 4;
  start_with_routes();
  Peer peer = running_->adopt();
  ASSERT_TRUE(peer.send(post("/echo", "too long")));
  EXPECT_EQ(answer_to(peer).rfind("HTTP/1.1 413 ", 0), 0u);
}

TEST_F(ServerConnectionHttpTest, AnAsyncRouteIsAnsweredLaterFromAnotherThread) {
  start_with_routes();
  Peer peer = running_->adopt();
  ASSERT_TRUE(peer.send(post("/jobs", "job 1")));
  ASSERT_TRUE(eventually([&] { return jobs_.received() == 1; }));
  EXPECT_EQ(jobs_.body(0), "job 1");
  jobs_.answer(0, HttpResponse{202, "text/plain", "accepted", {{"Location", "/jobs/1"}}});
  const std::string head = answer_to(peer);
  EXPECT_EQ(head.rfind("HTTP/1.1 202 ", 0), 0u) << head;
  EXPECT_NE(head.find("Location: /jobs/1\r\n"), std::string::npos) << head;
}

TEST_F(ServerConnectionHttpTest, AnAsyncRouteThatDoesNotAnswerInTimeGets504AndItsLateAnswerIsDropped) {
  config_.route_timeout_ms = 100;
  start_with_routes();
  Peer peer = running_->adopt();
  ASSERT_TRUE(peer.send(post("/jobs", "slow")));
  EXPECT_EQ(answer_to(peer).rfind("HTTP/1.1 504 ", 0), 0u);
  peer.close();
  ASSERT_TRUE(eventually([&] { return running_->worker().connection_count() == 0; }));
  jobs_.answer(0, HttpResponse{200, "text/plain", "too late", {}});
  running_->on_worker([] {});  // the answer's post has run (posts from one thread keep their order)
}

TEST_F(ServerConnectionHttpTest, AClientThatLeavesBeforeTheAnswerIsFreedAndTheAnswerFindsNobody) {
  start_with_routes();
  Peer peer = running_->adopt();
  ASSERT_TRUE(peer.send(post("/jobs", "abandoned")));
  ASSERT_TRUE(eventually([&] { return jobs_.received() == 1; }));
  peer.close();  // reading is paused while it waits, but EOF still wakes it
  ASSERT_TRUE(eventually([&] { return running_->worker().connection_count() == 0; }));
  jobs_.answer(0, HttpResponse{200, "text/plain", "for nobody", {}});
  running_->on_worker([] {});
}

}  // namespace
}  // namespace switchboard::server::testing
