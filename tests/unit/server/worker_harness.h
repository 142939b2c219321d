// What the ServerConnection and Worker tests drive: a Worker running its
// loop on a thread of its own, a handler that records every callback, and
// a blocking peer socket (one end of a socketpair the worker adopts, or a
// TCP connection to its loopback listener) that speaks raw RFC 6455.
//
// Every wait polls a condition until a generous deadline (kWait): a loaded
// machine makes the tests slower, never wrong. Nothing sleeps and then
// asserts.
//
// Threading: the handler runs on the worker thread and records under its
// mutex; the test thread reads the records through the same mutex, and
// reaches connections only through on_worker() (a posted task it waits for).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "server/admission.h"
#include "server/responder.h"
#include "server/router.h"
#include "server/worker.h"
#include "switchboard/server.h"

namespace switchboard::server::testing {

// Long enough for a 2-core machine busy with builds (and for a sanitizer
// build); a passing test never waits this long.
constexpr std::chrono::milliseconds kWait{10'000};

// The RFC 6455 §1.3 sample key and the accept value it must produce.
constexpr std::string_view kSampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kSampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// An upgrade request for "/" with the given key and version, and any extra
// header lines ("Name: value\r\n" each).
std::string upgrade_request(std::string_view key = kSampleKey, std::string_view version = "13",
                            std::string_view extra_headers = {});

// Polls condition until it holds or kWait passes; true if it held.
bool eventually(const std::function<bool()>& condition);

struct Closed {
  std::uint64_t id;
  CloseCode code;
  std::string reason;
};

struct Received {
  std::uint64_t id;
  std::string payload;
  Opcode opcode;
};

// Records every callback. The settings are read on the worker thread: set
// them before the worker starts.
class RecordingHandler final : public WebSocketHandler {
 public:
  // Settings.
  int reject_status = 0;  // on_upgrade refuses with it (and kRejectBody) when not 0
  PingReply ping_reply = PingReply::kPong;
  // How on_message answers.
  enum class Answer : std::uint8_t {
    kEcho,        // the message, with send()
    kEchoShared,  // the message as a SharedMessage (the fan-out batch)
    kSized,       // answer_size bytes of 'a', binary
    kNone,
  };
  Answer answer = Answer::kEcho;
  std::size_t answer_size = 0;
  static constexpr std::string_view kRejectBody = "not you";

  UpgradeDecision on_upgrade(const HttpRequest& request, std::span<const std::string_view> offered) override;
  void on_open(Connection& connection, const HttpRequest& request) override;
  void on_message(Connection& connection, std::string_view payload, Opcode opcode) override;
  void on_close(Connection& connection, CloseCode code, std::string_view reason) override;
  PingReply on_ping(Connection& connection, std::string_view payload) override;
  void on_drain(Connection& connection) override;
  GoingAway on_going_away(Connection& connection, std::uint64_t answer_within_ms) override;

  // The records (copies, taken under the lock).
  std::vector<std::uint64_t> opened() const;
  // HttpRequest::peer_address of each opened connection, in order.
  std::vector<std::string> peer_addresses() const;
  std::vector<Closed> closed() const;
  std::vector<Received> messages() const;
  std::vector<std::string> pings() const;
  std::size_t drains() const;
  std::size_t going_away() const;
  // Worker thread only: the open connection with that id, or null.
  Connection* find(std::uint64_t id) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> opened_;
  std::vector<std::string> peer_addresses_;
  std::vector<Closed> closed_;
  std::vector<Received> messages_;
  std::vector<std::string> pings_;
  std::size_t drains_ = 0;
  std::size_t going_away_ = 0;
  std::map<std::uint64_t, Connection*> open_;
};

// The async route's requests, kept for the test thread to answer.
class Jobs {
 public:
  AsyncRouteHandler handler() {
    return [this](const HttpRequest& request, HttpResponder responder) {
      std::lock_guard lock(mutex_);
      bodies_.emplace_back(request.body);  // the view dies with the call
      responders_.push_back(std::move(responder));
    };
  }
  std::size_t received() const {  // requests so far, answered or not
    std::lock_guard lock(mutex_);
    return responders_.size();
  }
  std::string body(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return bodies_.at(i);
  }
  // From the calling thread: any thread may answer.
  void answer(std::size_t i, HttpResponse response) {
    HttpResponder responder = [&] {
      std::lock_guard lock(mutex_);
      return responders_.at(i);
    }();
    responder.respond(std::move(response));
  }

 private:
  mutable std::mutex mutex_;
  std::deque<std::string> bodies_;
  std::deque<HttpResponder> responders_;
};

// One server frame as the peer read it.
struct PeerFrame {
  bool fin = true;
  Opcode opcode = Opcode::kText;
  std::string payload;
  bool masked = false;  // a server frame never is (RFC 6455 §5.1)

  std::uint16_t close_code() const;  // 0 when the payload has none
  std::string close_reason() const;
};

// A blocking socket the test reads and writes directly. Reads give up after
// kWait, so a missing answer fails the test instead of hanging it.
class Peer {
 public:
  explicit Peer(int fd);
  ~Peer();
  Peer(Peer&& other) noexcept;
  Peer& operator=(Peer&&) = delete;

  // A TCP connection to 127.0.0.1:port.
  static Peer connect_to(std::uint16_t port);

  bool send(std::string_view bytes);
  // A masked client frame (RFC 6455 §5.3).
  bool send_frame(Opcode opcode, std::string_view payload, Fin fin = Fin::kYes);
  bool send_close(std::uint16_t code, std::string_view reason = {});

  // The response head through its blank line (the bytes after it stay
  // buffered for read_frame); empty when the connection ended first.
  std::string read_head();
  std::optional<PeerFrame> read_frame();
  // The bytes not read yet, through the server's close (FIN or RST);
  // nullopt when it is still open after kWait.
  std::optional<std::string> read_to_eof();
  bool reads_eof() { return read_to_eof().has_value(); }

  void shutdown_write();
  void close();
  int fd() const { return fd_; }

 private:
  bool fill(std::size_t size);

  int fd_ = -1;
  std::string buffered_;
};

// A Worker (index 0, one of one) over the handler, listening on
// 127.0.0.1 with a kernel-chosen port, its loop on a thread of its own.
// Its router has GET /healthz (a health check) and what add_routes adds.
class RunningWorker {
 public:
  RunningWorker(ServerConfig config, WebSocketHandler& handler,
                const std::function<void(Router&)>& add_routes = nullptr);
  ~RunningWorker();

  Worker& worker() { return *worker_; }
  Admission& admission() { return *admission_; }
  std::uint16_t port() const { return worker_->port(); }
  // The loop has returned (after a drain, or stop()).
  bool finished() const { return finished_.load(); }

  // A socketpair: the worker adopts one end as if its listener had accepted
  // it (send_buffer > 0 sets that end's SO_SNDBUF first); the test gets the
  // other.
  Peer adopt(int send_buffer = 0);
  // Runs task on the worker thread and waits for it.
  void on_worker(std::function<void()> task);
  // Stops the loop and joins its thread (the destructor does it too).
  void stop();

 private:
  ServerConfig config_;
  Router router_;
  std::shared_ptr<PostGate> post_gate_ = std::make_shared<PostGate>();
  std::unique_ptr<Admission> admission_;
  std::unique_ptr<Worker> worker_;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace switchboard::server::testing
