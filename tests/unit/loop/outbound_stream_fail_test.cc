// The fail loop (Boost.Beast's doFailLoop): one exchange — bind, connect,
// (TLS handshake,) write a request, read the answer — run again and again, with the n-th
// socket call of the stream failing once, for n = 1, 2, ... until a run
// makes fewer than n calls. A transient error (EINTR, EAGAIN where the
// call is retried) must not change the outcome; any other must end the
// exchange with one clean error that names the call's step and errno.
// Never a crash, a hang, a duplicate byte or a leaked descriptor.
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loop/outbound_stream.h"
#include "loop/socket_calls.h"
#include "loopback_peer.h"
#include "tls_loopback_peer.h"

namespace switchboard::loop {
namespace {

using testing::LoopbackPeer;
using testing::run_until;
using testing::TlsLoopbackPeer;

// The injector behind the SocketCalls table.
struct Injector {
  int calls = 0;    // calls made in this run
  int fail_at = 0;  // the call that fails (1-based); 0: none
  int error = 0;    // its errno
  const char* failed_call = nullptr;

  // true (errno set) when this call is the one to fail.
  bool fail_now(const char* name) {
    if (++calls != fail_at) return false;
    failed_call = name;
    errno = error;
    return true;
  }
};
Injector injector;

const SocketCalls kInjectedCalls = {
    [](int domain, int type, int protocol) {
      return injector.fail_now("socket") ? -1 : ::socket(domain, type, protocol);
    },
    [](int fd, const sockaddr* address, socklen_t size) {
      return injector.fail_now("bind") ? -1 : ::bind(fd, address, size);
    },
    [](int fd, const sockaddr* address, socklen_t size) {
      if (!injector.fail_now("connect")) return ::connect(fd, address, size);
      // An interrupted connect(2) goes on in the background (POSIX).
      if (errno == EINTR) {
        (void)::connect(fd, address, size);
        errno = EINTR;
      }
      return -1;
    },
    [](int fd, int level, int name, void* value, socklen_t* size) {
      return injector.fail_now("getsockopt") ? -1 : ::getsockopt(fd, level, name, value, size);
    },
    [](int fd, const void* data, size_t size, int flags) -> ssize_t {
      return injector.fail_now("send") ? -1 : ::send(fd, data, size, flags);
    },
    [](int fd, void* data, size_t size, int flags) -> ssize_t {
      return injector.fail_now("recv") ? -1 : ::recv(fd, data, size, flags);
    },
};

// Swaps the table in for one test.
class InjectedCalls {
 public:
  InjectedCalls() { socket_calls = &kInjectedCalls; }
  ~InjectedCalls() { socket_calls = &kSystemSocketCalls; }
};

int open_descriptors() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count;
}

// Where a failed call must surface, when it is not retried.
StreamFailure failure_of(const std::string& call) {
  if (call == "socket" || call == "bind") return StreamFailure::kSocket;
  if (call == "connect" || call == "getsockopt") return StreamFailure::kConnect;
  if (call == "send") return StreamFailure::kWrite;
  return StreamFailure::kRead;
}

// Whether the stream must ride over this error: EINTR and EAGAIN on the
// data path are retried; EINTR from a non-blocking connect(2) means the
// connection is still being made.
bool is_retried(const std::string& call, int error) {
  if (call == "send" || call == "recv") return error == EAGAIN || error == EINTR;
  if (call == "connect") return error == EINTR;
  return false;
}

struct Owner : StreamOwner {
  OutboundStream* stream = nullptr;
  std::string request;
  std::string received;
  std::vector<StreamError> failures;
  void on_stream_open() override {
    if (stream->write(request) == WriteStatus::kFailed) failures.push_back(stream->error());
  }
  void on_stream_data(char* data, std::size_t size) override { received.append(data, size); }
  void on_stream_failed(const StreamError& error) override { failures.push_back(error); }
};

struct Outcome {
  bool completed = false;
  std::vector<StreamError> failures;
  std::string peer_received;
};

enum class Layer : std::uint8_t { kPlain, kTls };

// One exchange with the `fail_at`-th call failing with `error`.
Outcome run_exchange(Layer layer, int fail_at, int error) {
  EventLoop loop;
  // Plain: big enough that send(2) takes it in more than one piece (the
  // rest waits for EPOLLOUT). TLS: a few records.
  std::string request(layer == Layer::kPlain ? 4u << 20 : 40u << 10, 'q');
  request.back() = '!';
  LoopbackPeer plain_peer(loop);
  EXPECT_TRUE(plain_peer.ok());
  plain_peer.reply_after(request.size(), "answer");
  std::optional<TlsLoopbackPeer> tls_peer;
  std::shared_ptr<const TlsContext> tls;
  if (layer == Layer::kTls) {
    const std::string dir = SB_TEST_TLS_DIR;
    tls_peer.emplace(dir + "/server.pem", dir + "/server.key", request.size(), "answer");
    EXPECT_TRUE(tls_peer->ok());
    auto context = TlsContext::create({dir + "/ca.pem", "", ""});
    EXPECT_TRUE(context.ok()) << (context.ok() ? "" : context.error());
    if (context.ok()) tls = *context;
  }
  Owner owner;
  OutboundStream stream(loop, owner);
  owner.stream = &stream;
  owner.request = request;
  injector = Injector{0, fail_at, error, nullptr};
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  StreamTarget target;
  target.address = tls_peer ? tls_peer->address() : plain_peer.address();
  target.address_size = tls_peer ? tls_peer->address_size() : plain_peer.address_size();
  target.source = &source;
  target.tls = tls.get();
  target.tls_host = "127.0.0.1";
  if (!stream.connect(target)) owner.failures.push_back(stream.error());
  const bool settled = run_until(
      loop, [&] { return owner.received == "answer" || !owner.failures.empty(); }, 10'000);
  EXPECT_TRUE(settled) << "hung: call " << fail_at << " failing with " << std::strerror(error);
  const int calls = injector.calls;
  stream.close();
  Outcome outcome;
  outcome.completed = owner.received == "answer";
  outcome.failures = owner.failures;
  outcome.peer_received = tls_peer ? tls_peer->received_after_stop() : plain_peer.received();
  if (outcome.completed) {
    EXPECT_EQ(outcome.peer_received, request) << "call " << fail_at;
  }
  injector.calls = calls;  // the stream's, not the peer's shutdown
  return outcome;
}

// The fail loop over one layer; what it saw goes to the test's properties.
void run_fail_loop(Layer layer) {
  InjectedCalls injected;
  const int before = open_descriptors();
  // The run without a failure: how many calls the exchange makes.
  const Outcome clean = run_exchange(layer, 0, 0);
  ASSERT_TRUE(clean.completed);
  ASSERT_GE(injector.calls, 6);  // socket, bind, connect, getsockopt, send, recv
  // How many calls a run makes depends a little on how the kernel splits
  // the request: go on past the longest run seen.
  int longest = injector.calls;

  int retried = 0;
  int failed = 0;
  for (int error : {EINTR, EAGAIN, ECONNRESET, EPIPE, ECONNREFUSED, EMFILE}) {
    for (int n = 1; n <= longest + 1; ++n) {
      const Outcome outcome = run_exchange(layer, n, error);
      longest = std::max(longest, injector.calls);
      if (injector.failed_call == nullptr) continue;  // fewer calls this time
      const std::string call = injector.failed_call;
      SCOPED_TRACE("call " + std::to_string(n) + " (" + call + ") failing with " + std::strerror(error));
      if (is_retried(call, error)) {
        EXPECT_TRUE(outcome.completed);
        EXPECT_TRUE(outcome.failures.empty());
        ++retried;
      } else {
        EXPECT_FALSE(outcome.completed);
        ASSERT_EQ(outcome.failures.size(), 1u);
        const StreamError& failure = outcome.failures[0];
        if (layer == Layer::kTls && (call == "send" || call == "recv")) {
          // Under TLS, OpenSSL made the call: the error is the session's,
          // with the system's reason.
          EXPECT_TRUE(failure.failure == StreamFailure::kTlsHandshake || failure.failure == StreamFailure::kRead ||
                      failure.failure == StreamFailure::kWrite);
          EXPECT_EQ(failure.tls_error, std::strerror(error));
        } else {
          EXPECT_EQ(failure.failure, failure_of(call));
          EXPECT_EQ(failure.system_error, error);
        }
        ++failed;
      }
      EXPECT_EQ(open_descriptors(), before);
    }
  }
  EXPECT_GT(retried, 0);
  EXPECT_GT(failed, 0);
  ::testing::Test::RecordProperty("calls_in_the_longest_run", longest);
  ::testing::Test::RecordProperty("runs_retried", retried);
  ::testing::Test::RecordProperty("runs_failed_cleanly", failed);
}

TEST(OutboundStreamFailLoop, EverySocketCallFailingOnceEndsCleanly) { run_fail_loop(Layer::kPlain); }

// The same over TLS: the handshake's and the records' system calls go
// through the same table (loop/tls.cc's BIO).
TEST(OutboundStreamFailLoop, EverySocketCallUnderTlsFailingOnceEndsCleanly) {
  ::signal(SIGPIPE, SIG_IGN);  // the test's TLS server writes with write(2)
  run_fail_loop(Layer::kTls);
}

}  // namespace
}  // namespace switchboard::loop
