// Connection against a real redis-server started by each test.
#include "redis/connection.h"

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loop/tls.h"
#include "redis/resolve.h"
#include "redis_server.h"

namespace switchboard::redis {
namespace {

using testing::RedisServer;
using testing::run_for;
using testing::run_until;

class RedisConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::redis_server_available())
      GTEST_SKIP() << "no " << testing::kRedisServer << " (run scripts/bootstrap)";
  }

  // Starts a server with extra arguments; fails the test if it does not come up.
  RedisServer& start_server(std::vector<std::string> extra = {}) {
    server_ = std::make_unique<RedisServer>(std::move(extra));
    EXPECT_TRUE(server_->start()) << "redis-server did not start on port " << server_->port();
    return *server_;
  }

  // Issues argv and runs the loop until its reply arrives.
  Reply call(Connection& connection, std::initializer_list<std::string_view> argv) {
    Reply result;
    bool done = false;
    connection.command(argv, [&](const Reply& reply) {
      result = reply;
      done = true;
    });
    EXPECT_TRUE(run_until(loop_, [&] { return done; })) << "no reply to " << *argv.begin();
    return result;
  }

  loop::EventLoop loop_;
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisConnection, StringIntegerNilAndErrorReplies) {
  auto& server = start_server();
  Connection connection(loop_, server.endpoint());
  Reply set = call(connection, {"SET", "greeting", "hello"});  // issued while connecting: held
  EXPECT_EQ(set.type, ReplyType::kStatus);
  EXPECT_EQ(set.str, "OK");
  EXPECT_TRUE(connection.is_up());

  Reply get = call(connection, {"GET", "greeting"});
  EXPECT_EQ(get.type, ReplyType::kString);
  EXPECT_EQ(get.str, "hello");

  EXPECT_EQ(call(connection, {"INCR", "counter"}).integer, 1);
  Reply incr = call(connection, {"INCRBY", "counter", "41"});
  EXPECT_EQ(incr.type, ReplyType::kInteger);
  EXPECT_EQ(incr.integer, 42);

  EXPECT_TRUE(call(connection, {"GET", "missing"}).is_nil());

  Reply error = call(connection, {"INCR", "greeting"});
  EXPECT_TRUE(error.is_error());
  EXPECT_FALSE(error.is_connection_error());
  EXPECT_NE(error.str.find("not an integer"), std::string::npos) << error.str;
  EXPECT_TRUE(connection.is_up());  // a server error leaves the connection alone

  Reply array = call(connection, {"MGET", "greeting", "missing"});
  ASSERT_EQ(array.type, ReplyType::kArray);
  ASSERT_EQ(array.elements.size(), 2u);
  EXPECT_EQ(array.elements[0].str, "hello");
  EXPECT_TRUE(array.elements[1].is_nil());
}

TEST_F(RedisConnection, TenThousandPipelinedCommandsAnsweredInOrder) {
  auto& server = start_server();
  Connection connection(loop_, server.endpoint());
  ASSERT_TRUE(run_until(loop_, [&] { return connection.is_up(); }));
  constexpr int kCommands = 10000;
  std::vector<long long> seen;
  seen.reserve(kCommands);
  for (int i = 0; i < kCommands; ++i) {
    connection.command({"INCR", "pipelined"}, [&](const Reply& reply) { seen.push_back(reply.integer); });
  }
  EXPECT_EQ(connection.pending(), static_cast<std::size_t>(kCommands));
  ASSERT_TRUE(run_until(loop_, [&] { return seen.size() == kCommands; }));
  for (int i = 0; i < kCommands; ++i) ASSERT_EQ(seen[i], i + 1) << "reply " << i << " out of order";
  EXPECT_EQ(connection.pending(), 0u);
}

TEST_F(RedisConnection, LargeValuesGoThroughTheWriteBuffer) {
  auto& server = start_server();
  Connection connection(loop_, server.endpoint());
  ASSERT_TRUE(run_until(loop_, [&] { return connection.is_up(); }));
  std::string big(8 << 20, 'x');  // more than the kernel takes at once
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  int acknowledged = 0;
  for (int i = 0; i < 4; ++i) {
    connection.command({"SET", "big" + std::to_string(i), big}, [&](const Reply& reply) {
      EXPECT_EQ(reply.str, "OK");
      ++acknowledged;
    });
  }
  ASSERT_TRUE(run_until(
      loop_, [&] { return acknowledged == 4; }, 10000));
  EXPECT_EQ(call(connection, {"GET", "big3"}).str, big);
}

TEST_F(RedisConnection, CommandsBeyondTheBufferCapFailAtOnceAndTheRestGoThrough) {
  auto& server = start_server();
  Options options;
  options.max_buffered_bytes = 1 << 20;
  Connection connection(loop_, server.endpoint(), options);
  ASSERT_TRUE(run_until(loop_, [&] { return connection.is_up(); }));
  // Issued in one go: nothing is written until this loop iteration ends,
  // so the third 512 KiB value finds the buffer at its cap.
  const std::string value(512 << 10, 'v');
  std::vector<Reply> replies(3);
  int answered = 0;
  for (int i = 0; i < 3; ++i) {
    connection.command({"SET", "k" + std::to_string(i), value}, [&, i](const Reply& reply) {
      replies[i] = reply;
      ++answered;
    });
  }
  ASSERT_TRUE(run_until(loop_, [&] { return answered == 3; }));
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_EQ(replies[1].str, "OK");
  EXPECT_TRUE(replies[2].is_error());
  EXPECT_NE(replies[2].str.find("queue full"), std::string::npos) << replies[2].str;
  // Not sent, and the connection is fine.
  EXPECT_TRUE(call(connection, {"EXISTS", "k2"}).integer == 0);
  EXPECT_EQ(call(connection, {"GET", "k0"}).str, value);
}

// TLS (rediss://): a server that speaks only TLS, verified against the
// test CA; one signed by another CA is refused.
class RedisTlsConnection : public RedisConnection {
 protected:
  RedisServer& start_tls_server(std::vector<std::string> extra = {}, bool client_certificates = false) {
    server_ = std::make_unique<RedisServer>(std::move(extra));
    server_->use_tls(SB_TEST_TLS_DIR, client_certificates);
    EXPECT_TRUE(server_->start()) << "redis-server (TLS) did not start on port " << server_->port();
    return *server_;
  }
  // with_certificate: present the test server's own certificate (signed by
  // the test CA) as the client's.
  static Options trusting(const char* ca_file, bool with_certificate = false) {
    Options options;
    const std::string dir = SB_TEST_TLS_DIR;
    auto tls = loop::TlsContext::create({dir + "/" + ca_file, with_certificate ? dir + "/server.pem" : "",
                                         with_certificate ? dir + "/server.key" : ""});
    EXPECT_TRUE(tls.ok()) << tls.error();
    if (tls) options.tls = *std::move(tls);
    options.backoff_min_ms = 50;
    options.backoff_max_ms = 100;
    return options;
  }
  static Endpoint tls_endpoint(const RedisServer& server, std::string host = "127.0.0.1") {
    Endpoint endpoint = server.endpoint();
    endpoint.host = std::move(host);
    endpoint.tls = true;
    return endpoint;
  }
};

TEST_F(RedisTlsConnection, CommandsLargeValuesAndAuthOverTls) {
  auto& server = start_tls_server({"--requirepass", "s3cret"});
  Endpoint endpoint = tls_endpoint(server);
  endpoint.password = "s3cret";
  Connection connection(loop_, endpoint, trusting("ca.pem"));
  EXPECT_EQ(call(connection, {"SET", "k", "v"}).str, "OK");  // held through TCP, TLS and AUTH
  EXPECT_EQ(call(connection, {"GET", "k"}).str, "v");
  // More than one TLS record and more than the kernel takes at once.
  const std::string big(3 << 20, 'x');
  int answered = 0;
  for (int i = 0; i < 3; ++i) {
    connection.command({"SET", "big" + std::to_string(i), big}, [&](const Reply& reply) {
      EXPECT_EQ(reply.str, "OK");
      ++answered;
    });
  }
  ASSERT_TRUE(run_until(
      loop_, [&] { return answered == 3; }, 10000));
  EXPECT_EQ(call(connection, {"GET", "big2"}).str, big);
  // 1,000 pipelined replies arrive through OpenSSL's buffer, none left behind.
  int replies = 0;
  for (int i = 0; i < 1000; ++i) connection.command({"INCR", "n"}, [&](const Reply&) { ++replies; });
  ASSERT_TRUE(run_until(loop_, [&] { return replies == 1000; }));
  EXPECT_EQ(call(connection, {"GET", "n"}).str, "1000");
}

TEST_F(RedisTlsConnection, ANameIsCheckedAfterResolvingItToAnAddress) {
  auto& server = start_tls_server();
  const auto parsed = parse_redis_url("rediss://localhost:" + std::to_string(server.port()));
  ASSERT_TRUE(parsed) << parsed.error();
  const auto endpoint = resolve(*parsed);
  ASSERT_TRUE(endpoint) << endpoint.error();
  EXPECT_EQ(endpoint->tls_name(), "localhost");  // the certificate names localhost (and 127.0.0.1)
  Connection connection(loop_, *endpoint, trusting("ca.pem"));
  EXPECT_EQ(call(connection, {"PING"}).str, "PONG");
}

TEST_F(RedisTlsConnection, AServerTheCaDidNotSignIsRefused) {
  auto& server = start_tls_server();
  Connection connection(loop_, tls_endpoint(server), trusting("other-ca.pem"));
  Reply reply = call(connection, {"PING"});
  EXPECT_TRUE(reply.is_connection_error());
  EXPECT_NE(connection.last_error().find("certificate verify failed"), std::string::npos) << connection.last_error();
  EXPECT_FALSE(connection.is_up());
}

TEST_F(RedisTlsConnection, AClientCertificateWhenRedisAsksForOne) {
  auto& server = start_tls_server({}, true);
  Connection without(loop_, tls_endpoint(server), trusting("ca.pem"));
  EXPECT_TRUE(call(without, {"PING"}).is_connection_error());
  Connection with(loop_, tls_endpoint(server), trusting("ca.pem", true));
  EXPECT_EQ(call(with, {"PING"}).str, "PONG");
}

TEST(TlsContextTest, UnusableFilesAreNamed) {
  const auto no_ca = loop::TlsContext::create({"/nonexistent/ca.pem", "", ""});
  ASSERT_FALSE(no_ca.ok());
  EXPECT_NE(no_ca.error().find("/nonexistent/ca.pem"), std::string::npos) << no_ca.error();
  const auto no_key = loop::TlsContext::create({"", std::string(SB_TEST_TLS_DIR) + "/server.pem", ""});
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.error().find("both"), std::string::npos) << no_key.error();
  EXPECT_FALSE(loop::TlsContext::create(
                   {"", std::string(SB_TEST_TLS_DIR) + "/server.pem", std::string(SB_TEST_TLS_DIR) + "/ca.pem"})
                   .ok());  // a certificate is no key
}

TEST_F(RedisTlsConnection, PlainTextToATlsPortFailsClearly) {
  auto& server = start_tls_server();
  Options options;
  options.connect_timeout_ms = 500;
  Connection connection(loop_, server.endpoint(), options);  // redis://, not rediss://
  EXPECT_TRUE(call(connection, {"PING"}).is_connection_error());
  EXPECT_FALSE(connection.is_up());
}

TEST_F(RedisConnection, AuthWithPasswordAndWithUsername) {
  auto& server = start_server({"--requirepass", "s3cret"});
  Endpoint endpoint = server.endpoint();
  endpoint.password = "s3cret";
  Connection password_only(loop_, endpoint);
  EXPECT_EQ(call(password_only, {"PING"}).str, "PONG");

  endpoint.username = "default";  // AUTH default s3cret (Redis 6 ACL form)
  Connection with_user(loop_, endpoint);
  EXPECT_EQ(call(with_user, {"PING"}).str, "PONG");

  Endpoint no_password = server.endpoint();
  Connection anonymous(loop_, no_password);
  Reply refused = call(anonymous, {"PING"});
  EXPECT_TRUE(refused.is_error());
  EXPECT_FALSE(refused.is_connection_error());
  EXPECT_NE(refused.str.find("NOAUTH"), std::string::npos) << refused.str;
}

TEST_F(RedisConnection, WrongPasswordIsSurfacedAndRetried) {
  auto& server = start_server({"--requirepass", "s3cret"});
  Endpoint endpoint = server.endpoint();
  endpoint.password = "wrong";
  Options options;
  options.backoff_min_ms = 50;
  options.backoff_max_ms = 100;
  Connection connection(loop_, endpoint, options);
  std::vector<bool> states;
  connection.on_state([&](Availability availability) { states.push_back(availability == Availability::kUp); });
  Reply reply = call(connection, {"SET", "k", "v"});
  EXPECT_TRUE(reply.is_connection_error());
  EXPECT_NE(reply.str.find("AUTH failed"), std::string::npos) << reply.str;
  EXPECT_NE(connection.last_error().find("AUTH failed"), std::string::npos);
  EXPECT_FALSE(connection.is_up());
  // It keeps trying, with backoff.
  EXPECT_TRUE(run_until(loop_, [&] { return connection.connect_attempts() >= 2u; }));
  EXPECT_EQ(states, std::vector<bool>{false});
}

TEST_F(RedisConnection, SelectsTheDatabaseBeforeAnyCommand) {
  auto& server = start_server();
  Endpoint db3 = server.endpoint();
  db3.db = 3;
  Connection in_db3(loop_, db3);
  Connection in_db0(loop_, server.endpoint());
  EXPECT_EQ(call(in_db3, {"SET", "where", "three"}).str, "OK");
  EXPECT_TRUE(call(in_db0, {"GET", "where"}).is_nil());
  EXPECT_EQ(call(in_db3, {"GET", "where"}).str, "three");
  EXPECT_EQ(call(in_db0, {"SELECT", "3"}).str, "OK");
  EXPECT_EQ(call(in_db0, {"GET", "where"}).str, "three");

  Endpoint bad = server.endpoint();
  bad.db = 99;  // the default server has 16 databases
  Connection in_db99(loop_, bad);
  Reply reply = call(in_db99, {"PING"});
  EXPECT_TRUE(reply.is_connection_error());
  EXPECT_NE(reply.str.find("SELECT failed"), std::string::npos) << reply.str;
}

TEST_F(RedisConnection, ServerKilledMidFlightFailsPendingThenReconnects) {
  auto& server = start_server();
  Options options;
  options.backoff_min_ms = 50;
  options.backoff_max_ms = 200;
  Connection connection(loop_, server.endpoint(), options);
  std::vector<bool> states;
  connection.on_state([&](Availability availability) { states.push_back(availability == Availability::kUp); });
  ASSERT_TRUE(run_until(loop_, [&] { return connection.is_up(); }));

  std::vector<Reply> replies;
  auto collect = [&](const Reply& reply) { replies.push_back(reply); };
  connection.command({"BLPOP", "never", "0"}, collect);  // blocks: stays in flight
  connection.command({"GET", "after-blpop"}, collect);
  run_for(loop_, 100);  // room for a wrong early reply; absence cannot be polled
  ASSERT_TRUE(replies.empty());
  server.stop(SIGKILL);

  ASSERT_TRUE(run_until(loop_, [&] { return replies.size() == 2 && !connection.is_up(); }));
  for (const auto& reply : replies) {
    EXPECT_TRUE(reply.is_connection_error()) << reply.str;
  }
  EXPECT_EQ(states, (std::vector<bool>{true, false}));

  // While down, commands fail at once, but from a posted task: never
  // inside command().
  bool failed = false;
  connection.command({"PING"}, [&](const Reply& reply) { failed = reply.is_connection_error(); });
  EXPECT_FALSE(failed);
  ASSERT_TRUE(run_until(loop_, [&] { return failed; }));

  ASSERT_TRUE(server.start());  // same port
  ASSERT_TRUE(run_until(loop_, [&] { return connection.is_up(); }));
  EXPECT_EQ(states, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(call(connection, {"PING"}).str, "PONG");
}

TEST_F(RedisConnection, RetryNowReconnectsADownConnectionWithoutWaitingOutItsBackoff) {
  auto& server = start_server();
  Options options;
  options.backoff_min_ms = 60'000;  // a retry before the test's deadline can only be retry_now's
  options.backoff_max_ms = 60'000;
  Connection connection(loop_, server.endpoint(), options);
  connection.retry_now();  // not down: nothing
  ASSERT_TRUE(run_until(loop_, [&] { return connection.is_up(); }));
  EXPECT_EQ(connection.connect_attempts(), 1u);
  server.stop(SIGKILL);
  ASSERT_TRUE(run_until(loop_, [&] { return !connection.is_up(); }));
  ASSERT_TRUE(server.start());  // same port
  const std::uint64_t attempts = connection.connect_attempts();
  connection.retry_now();
  connection.retry_now();  // one attempt for both: the first is under way when the second's task runs
  ASSERT_TRUE(run_until(loop_, [&] { return connection.is_up(); }));
  EXPECT_EQ(connection.connect_attempts(), attempts + 1);
  EXPECT_EQ(call(connection, {"PING"}).str, "PONG");
}

TEST_F(RedisConnection, AReplyOverdueMarksTheConnectionDead) {
  auto& server = start_server();
  Options options;
  options.command_timeout_ms = 300;
  options.backoff_min_ms = 50;
  options.backoff_max_ms = 100;
  Connection connection(loop_, server.endpoint(), options);
  ASSERT_TRUE(run_until(loop_, [&] { return connection.is_up(); }));
  auto started = loop_.now_ms();
  Reply reply = call(connection, {"BLPOP", "never", "0"});
  EXPECT_TRUE(reply.is_connection_error());
  EXPECT_NE(reply.str.find("no reply within 300 ms"), std::string::npos) << reply.str;
  EXPECT_GE(loop_.now_ms() - started, 300u);
  ASSERT_TRUE(run_until(loop_, [&] { return connection.is_up(); }));
  EXPECT_EQ(call(connection, {"PING"}).str, "PONG");
}

TEST_F(RedisConnection, NothingListeningStaysDownAndBacksOff) {
  Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = testing::free_port();
  Connection connection(loop_, endpoint);  // default backoff: 100 ms .. 5 s
  int downs = 0;
  connection.on_state([&](Availability availability) { downs += availability == Availability::kUp ? 100 : 1; });
  Reply reply = call(connection, {"PING"});
  EXPECT_TRUE(reply.is_connection_error());
  EXPECT_NE(reply.str.find("refused"), std::string::npos) << reply.str;
  run_for(loop_, 1000);  // the window the attempts are counted in, not a wait
  // 100 ms minimum between attempts, doubling caps: at most 11 in ~1.1 s,
  // usually 4 or 5; a spinning client would make thousands.
  EXPECT_GE(connection.connect_attempts(), 2u);
  EXPECT_LE(connection.connect_attempts(), 11u);
  EXPECT_EQ(downs, 1);
  EXPECT_FALSE(connection.is_up());
}

TEST_F(RedisConnection, UnresolvedHostNameFailsWithAHint) {
  Endpoint endpoint;
  endpoint.host = "redis.example";
  Connection connection(loop_, endpoint);
  Reply reply = call(connection, {"PING"});
  EXPECT_TRUE(reply.is_connection_error());
  EXPECT_NE(reply.str.find("resolve()"), std::string::npos) << reply.str;
}

TEST_F(RedisConnection, DestroyedFromACallbackRunsNoMoreCallbacks) {
  auto& server = start_server();
  auto connection = std::make_unique<Connection>(loop_, server.endpoint());
  int calls = 0;
  for (int i = 0; i < 5; ++i) {
    connection->command({"PING"}, [&](const Reply&) {
      ++calls;
      connection.reset();
    });
  }
  ASSERT_TRUE(run_until(loop_, [&] { return calls >= 1; }));
  run_for(loop_, 100);  // room for a wrong second callback: absence cannot be polled
  EXPECT_EQ(calls, 1);

  // The same while pending commands are failed by a drop.
  connection = std::make_unique<Connection>(loop_, server.endpoint());
  ASSERT_TRUE(run_until(loop_, [&] { return connection->is_up(); }));
  calls = 0;
  for (int i = 0; i < 5; ++i) {
    connection->command({"BLPOP", "never", "0"}, [&](const Reply&) {
      ++calls;
      connection.reset();
    });
  }
  run_for(loop_, 100);  // the commands reach the server (BLPOP has no reply to wait on)
  server.stop(SIGKILL);
  ASSERT_TRUE(run_until(loop_, [&] { return calls >= 1; }));
  run_for(loop_, 100);  // room for a wrong second callback: absence cannot be polled
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace switchboard::redis
