#include "hub/rpc_proxy.h"

#include <algorithm>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <curl/curl.h>

#include "base/json_string.h"
#include "loop/event_loop.h"
#include "loop/timer_wheel.h"
#include "protocol/encode.h"

namespace switchboard::hub {
namespace {

std::once_flag curl_initialised;

constexpr long kMaxBackendConnections = 32;
// curl gives up a little after the hub's own rpc timeout, so that the
// client gets the timeout error (114) rather than "unreachable".
constexpr std::uint64_t kTransportGraceMs = 1'000;

// Of a failing status's body, only this much goes into the error message.
constexpr std::size_t kErrorBodyShown = 200;

}  // namespace

// One HTTP request in flight.
struct Transfer {
  // Why the answer was not read to its end; curl then ends the transfer
  // with CURLE_WRITE_ERROR, which is not a transport error here.
  enum class Cut : std::uint8_t {
    kNo,
    kTooLarge,   // a 2xx body over max_response: never held whole
    kErrorBody,  // another status: the start of its body is all the message needs
  };
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string request;
  std::string response;
  std::size_t max_response = 0;
  Cut cut = Cut::kNo;
  std::unique_ptr<RpcReply> reply;
};

namespace {

// curl's write callback: keeps the body up to the limit and stops the
// transfer past it (returning less than it was given), so a 50 MB answer
// costs at most the limit and one read, not 50 MB.
size_t collect_body(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  long status = 0;
  curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    const size_t room = kErrorBodyShown - std::min(kErrorBodyShown, transfer.response.size());
    transfer.response.append(data, std::min(bytes, room));
    if (bytes <= room) return bytes;
    transfer.cut = Transfer::Cut::kErrorBody;
    return 0;
  }
  if (bytes > transfer.max_response - transfer.response.size()) {
    transfer.cut = Transfer::Cut::kTooLarge;
    return 0;
  }
  transfer.response.append(data, bytes);
  return bytes;
}

}  // namespace

// A socket curl asked us to watch.
class SocketWatch final : public loop::IoHandler {
 public:
  SocketWatch(RpcProxy::Impl& proxy, curl_socket_t fd) : proxy_(proxy), fd_(fd) {}
  void on_io(std::uint32_t events) override;

 private:
  RpcProxy::Impl& proxy_;
  curl_socket_t fd_;
};

struct RpcProxy::Impl {
  Impl(std::string backend_url, std::uint64_t timeout, std::uint64_t max_answer)
      : url(std::move(backend_url)), timeout_ms(timeout), max_answer_size(max_answer) {
    std::call_once(curl_initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::on_timer_request);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    // Keep-alive connections to the backend, at most this many at once; the
    // rest wait in curl's queue rather than flood the backend's accept queue.
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, kMaxBackendConnections);
    // A watch curl drops may still have an event in this iteration's batch:
    // free them only when the iteration is over.
    loop.add_end_of_iteration_hook([this] { retired.clear(); });
    thread = std::thread([this] { loop.run(); });
  }

  ~Impl() {
    loop.post([this] {
      for (auto& [easy, transfer] : transfers) {
        transfer->reply->fail("the server is stopping");
        curl_multi_remove_handle(multi, easy);
        curl_easy_cleanup(easy);
        curl_slist_free_all(transfer->headers);
      }
      transfers.clear();
      loop.quit();
    });
    thread.join();
    watches.clear();
    retired.clear();
    // The loop is gone: curl must not ask it for timers while cleaning up.
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, nullptr);
    curl_multi_cleanup(multi);
  }

  // On the proxy's thread.
  void start(std::string body, RpcReply reply) {
    auto transfer = std::make_unique<Transfer>();
    transfer->easy = curl_easy_init();
    transfer->request = std::move(body);
    transfer->max_response = max_answer_size;
    transfer->reply = std::make_unique<RpcReply>(std::move(reply));
    transfer->headers = curl_slist_append(nullptr, "Content-Type: application/json");
    transfer->headers = curl_slist_append(transfer->headers, "Accept: application/json");
    CURL* easy = transfer->easy;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->request.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(transfer->request.size()));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &collect_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms + kTransportGraceMs));
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    transfers.emplace(easy, std::move(transfer));
    curl_multi_add_handle(multi, easy);
  }

  void act(curl_socket_t fd, int flags) {
    int running = 0;
    curl_multi_socket_action(multi, fd, flags, &running);
    finish_done();
  }

  void finish_done() {
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      const CURLcode result = message->data.result;
      auto it = transfers.find(easy);
      if (it == transfers.end()) continue;
      std::unique_ptr<Transfer> transfer = std::move(it->second);
      transfers.erase(it);
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      curl_slist_free_all(transfer->headers);
      if (transfer->cut == Transfer::Cut::kTooLarge) {
        transfer->reply->fail_too_large();
      } else if (result != CURLE_OK && transfer->cut == Transfer::Cut::kNo) {
        transfer->reply->fail(std::string("rpc backend unreachable: ") + curl_easy_strerror(result));
      } else if (status < 200 || status > 299) {
        std::string message_text = "rpc backend answered HTTP " + std::to_string(status);
        if (!transfer->response.empty()) message_text += ": " + transfer->response;
        transfer->reply->fail(std::move(message_text));
      } else {
        transfer->reply->ok(std::move(transfer->response));
      }
    }
  }

  static int on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
    auto& impl = *static_cast<Impl*>(self);
    if (what == CURL_POLL_REMOVE) {
      auto it = impl.watches.find(fd);
      if (it != impl.watches.end()) {
        impl.loop.remove(fd);
        impl.retired.push_back(std::move(it->second));
        impl.watches.erase(it);
      }
      return 0;
    }
    const loop::Interest interest = what == CURL_POLL_IN    ? loop::Interest::kRead
                                    : what == CURL_POLL_OUT ? loop::Interest::kWrite
                                                            : loop::Interest::kReadWrite;
    auto [it, created] = impl.watches.try_emplace(fd);
    if (created) {
      it->second = std::make_unique<SocketWatch>(impl, fd);
      impl.loop.add(fd, *it->second, interest);
    } else {
      impl.loop.modify(fd, *it->second, interest);
    }
    return 0;
  }

  // curl's single timer: -1 cancels it, 0 means "act now".
  static int on_timer_request(CURLM*, long timeout_ms, void* self) {
    auto& impl = *static_cast<Impl*>(self);
    impl.timer.cancel();
    if (timeout_ms == 0) {
      impl.loop.post([&impl] { impl.act(CURL_SOCKET_TIMEOUT, 0); });
    } else if (timeout_ms > 0) {
      impl.loop.arm(impl.timer, static_cast<std::uint64_t>(timeout_ms));
    }
    return 0;
  }

  static void on_timer(void* self) { static_cast<Impl*>(self)->act(CURL_SOCKET_TIMEOUT, 0); }

  std::string url;
  std::uint64_t timeout_ms;
  std::uint64_t max_answer_size;
  loop::EventLoop loop;
  loop::Timer timer{&Impl::on_timer, this};
  CURLM* multi = nullptr;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::unordered_map<curl_socket_t, std::unique_ptr<SocketWatch>> watches;
  std::vector<std::unique_ptr<SocketWatch>> retired;
  std::thread thread;
};

void SocketWatch::on_io(std::uint32_t events) {
  int flags = 0;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) flags |= CURL_CSELECT_IN;
  if (events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
  if (events & EPOLLERR) flags |= CURL_CSELECT_ERR;
  // act() may drop this watch; it is freed only after the iteration.
  proxy_.act(fd_, flags);
}

RpcProxy::RpcProxy(std::string url, std::uint64_t timeout_ms, std::uint64_t max_answer_size)
    : impl_(std::make_unique<Impl>(std::move(url), timeout_ms, max_answer_size)) {}

RpcProxy::~RpcProxy() = default;

std::string RpcProxy::request_body(const RpcCall& call) {
  std::string body = "{\"user\":";
  protocol::append_json_user(body, call.user);
  body += ",\"client\":";
  base::append_json_string(body, call.client);
  body += ",\"method\":";
  base::append_json_string(body, call.method);
  body += ",\"data\":";
  body += call.data_json;
  body += '}';
  return body;
}

void RpcProxy::forward(const RpcCall& call, RpcReply reply) {
  Impl& impl = *impl_;
  impl.loop.post([&impl, body = request_body(call), reply = std::move(reply)]() mutable {
    impl.start(std::move(body), std::move(reply));
  });
}

}  // namespace switchboard::hub
