// Server: starts the workers, waits for them, turns SIGTERM/SIGINT into a
// graceful drain.
#include "switchboard/server.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <thread>

#include "base/log.h"
#include "http/upgrade.h"
#include "server/responder.h"
#include "server/router.h"
#include "server/tls_state.h"
#include "server/worker.h"

namespace switchboard {

struct Server::Impl {
  Impl(ServerConfig server_config, WebSocketHandler& websocket_handler)
      : config(std::move(server_config)), handler(websocket_handler) {}

  // Routes may be added only before the workers exist: they read the
  // router without a lock.
  void check_not_started(const char* call) const {
    if (!workers.empty()) throw std::logic_error(std::string("Server::") + call + " after start()");
  }

  ServerConfig config;
  WebSocketHandler& handler;
  server::Router router;
  std::function<void()> reload;                  // SIGHUP, on the thread in wait()
  std::unique_ptr<server::Admission> admission;  // made in start(), when the worker count is known
  // Shared with every HttpResponder; closed first thing in ~Server.
  std::shared_ptr<server::PostGate> post_gate = std::make_shared<server::PostGate>();
  std::vector<std::unique_ptr<server::Worker>> workers;
  std::vector<std::thread> threads;
  std::atomic<unsigned> running{0};
  std::atomic<bool> stopping{false};
  std::uint16_t port = 0;
  std::uint16_t tls_port = 0;
  std::unique_ptr<server::TlsState> tls;  // with a certificate
  bool started = false;
};

namespace {

loop::TlsServerConfig tls_settings(const ServerConfig& config) {
  loop::TlsServerConfig tls;
  tls.cert_file = config.tls_cert_file;
  tls.key_file = config.tls_key_file;
  tls.min_version = config.tls_min_version == TlsVersion::k1_3 ? loop::TlsMinVersion::k1_3 : loop::TlsMinVersion::k1_2;
  tls.ciphers = config.tls_ciphers;
  tls.ciphersuites = config.tls_ciphersuites;
  tls.ca_file = config.tls_ca_file;
  tls.client_certificate = config.tls_client_auth == TlsClientAuth::kRequired   ? loop::TlsClientCertificate::kRequired
                           : config.tls_client_auth == TlsClientAuth::kOptional ? loop::TlsClientCertificate::kOptional
                                                                                : loop::TlsClientCertificate::kNotAsked;
  return tls;
}

}  // namespace

Server::Server(ServerConfig config, WebSocketHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(config), handler)) {}

Server::~Server() {
  // From here on an async route's answer is dropped: the workers are freed
  // below, and with them their task queues.
  impl_->post_gate->close();
  if (impl_->started) {
    stop();
    for (auto& thread : impl_->threads) {
      if (thread.joinable()) thread.join();
    }
  }
  // The workers have stopped and still exist: the handler may tear down
  // what it runs on their loops.
  impl_->handler.on_stop(*this);
}

void Server::route(std::string method, std::string path, RouteHandler handler) {
  impl_->check_not_started("route");
  impl_->router.add(std::move(method), std::move(path), std::move(handler));
}

void Server::route_async(std::string method, std::string path, AsyncRouteHandler handler) {
  impl_->check_not_started("route_async");
  impl_->router.add_async(std::move(method), std::move(path), std::move(handler));
}

void Server::health_route(std::string path, RouteHandler handler) {
  impl_->check_not_started("health_route");
  impl_->router.add("GET", std::move(path), std::move(handler), server::RouteKind::kHealthCheck);
}

void Server::start() {
  Impl& impl = *impl_;
  // Built in, unless the embedder has its own.
  if (!impl.router.has("GET", "/healthz")) {
    impl.router.add(
        "GET", "/healthz",
        [](const HttpRequest&) {
          return HttpResponse{200, "text/plain; charset=utf-8", "ok\n", {}};
        },
        server::RouteKind::kHealthCheck);
  }
  // OpenSSL's one-time setup (about 1.3 ms) here, not in the first handshake.
  http::prepare_accept_key();
  if (!impl.config.tls_cert_file.empty() || !impl.config.tls_key_file.empty() || impl.config.tls_port) {
    auto context = loop::TlsServerContext::create(tls_settings(impl.config));
    if (!context) throw loop::TlsSetupError(context.error());
    impl.tls = std::make_unique<server::TlsState>();
    impl.tls->context.store(*std::move(context));
  }
  unsigned count = impl.config.workers != 0 ? impl.config.workers : std::max(1u, std::thread::hardware_concurrency());
  if (impl.config.handle_signals == HandleSignals::kYes) {
    // Block the signals before any thread exists: every worker inherits the
    // mask and wait() takes them synchronously with sigtimedwait.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (impl.reload || impl.tls) sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }
  signal(SIGPIPE, SIG_IGN);  // belt and braces: every send uses MSG_NOSIGNAL
  // The first listener resolves port 0; the others share the port it got.
  std::uint16_t port = impl.config.port;
  std::uint16_t tls_port = impl.config.tls_port.value_or(0);
  impl.admission = std::make_unique<server::Admission>(impl.config, count);
  for (unsigned i = 0; i < count; ++i) {
    impl.workers.push_back(std::make_unique<server::Worker>(i, impl.config, impl.handler, impl.router, impl.post_gate,
                                                            *impl.admission, port, impl.tls.get(), tls_port));
    port = impl.workers.back()->port();
    tls_port = impl.workers.back()->tls_port();
  }
  impl.port = port;
  impl.tls_port = tls_port;
  impl.started = true;
  impl.running = count;
  // Before any worker thread runs: the handler may size per-worker state.
  impl.handler.on_start(*this);
  for (auto& worker : impl.workers) {
    impl.threads.emplace_back([&impl, raw = worker.get()] {
      try {
        raw->run();
      } catch (const std::exception& error) {
        base::log(base::LogLevel::kError, "worker %u stopped: %s", raw->index(), error.what());
      }
      impl.running.fetch_sub(1);
    });
  }
}

std::uint16_t Server::port() const { return impl_->port; }

std::uint16_t Server::tls_port() const { return impl_->tls_port; }

std::string Server::reload_tls() {
  if (!impl_->tls) return "TLS is not configured";
  auto context = loop::TlsServerContext::create(tls_settings(impl_->config));
  if (!context) return context.error();
  impl_->tls->context.store(*std::move(context));
  return {};
}

void Server::wait() {
  Impl& impl = *impl_;
  if (impl.config.handle_signals == HandleSignals::kYes) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (impl.reload || impl.tls) sigaddset(&set, SIGHUP);
    timespec tick{0, 100'000'000};
    while (impl.running.load() > 0) {
      int signal_number = sigtimedwait(&set, nullptr, &tick);
      if (signal_number == SIGHUP) {
        base::log(base::LogLevel::kInfo, "signal %d: reloading", signal_number);
        if (impl.tls) {
          if (const std::string refused = reload_tls(); refused.empty()) {
            base::log(base::LogLevel::kInfo, "reloaded: TLS certificate and key");
          } else {
            base::log(base::LogLevel::kError, "TLS reload refused, the certificate in use stays: %s", refused.c_str());
          }
        }
        if (impl.reload) impl.reload();
      } else if (signal_number == SIGINT || signal_number == SIGTERM) {
        base::log(base::LogLevel::kInfo, "signal %d: draining %zu connections", signal_number, connection_count());
        stop();
      }
    }
  }
  for (auto& thread : impl.threads) {
    if (thread.joinable()) thread.join();
  }
  impl.threads.clear();
  // The workers (their loops, now stopped) live until ~Server: a thread that
  // still posts to one after wait() (an rpc answer arriving late) enqueues
  // a task that is simply never run.
  impl.started = false;
}

void Server::stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->handler.on_draining(*this);
  for (auto& worker : impl_->workers) worker->start_drain();
}

void Server::on_reload_signal(std::function<void()> reload) {
  impl_->check_not_started("on_reload_signal");
  impl_->reload = std::move(reload);
}

ServerStats Server::stats() const {
  ServerStats stats;
  if (impl_->admission) {
    stats.refused_per_address = impl_->admission->refused_from_address();
    stats.refused_new_connections = impl_->admission->refused_new();
  }
  if (const server::TlsState* tls = impl_->tls.get()) {
    stats.tls_failed_plain_http = tls->counted(loop::TlsFailure::kPlainHttp);
    stats.tls_failed_closed = tls->counted(loop::TlsFailure::kPeerClosed);
    stats.tls_failed_protocol = tls->counted(loop::TlsFailure::kProtocol);
    stats.tls_failed_timeout = tls->counted(loop::TlsFailure::kTimeout);
  }
  return stats;
}

unsigned Server::worker_count() const { return static_cast<unsigned>(impl_->workers.size()); }

const ServerConfig& Server::config() const { return impl_->config; }

void Server::post(unsigned worker, std::function<void()> task) {
  impl_->workers.at(worker)->loop().post(std::move(task));
}

void Server::post_after(unsigned worker, std::uint64_t delay_ms, std::function<void()> task) {
  server::Worker& target = *impl_->workers.at(worker);
  target.loop().post(
      [&target, delay_ms, task = std::move(task)]() mutable { target.run_after(delay_ms, std::move(task)); });
}

loop::EventLoop& Server::event_loop(unsigned worker) { return impl_->workers.at(worker)->loop(); }

std::size_t Server::connection_count() const {
  std::size_t total = 0;
  for (const auto& worker : impl_->workers) total += worker->connection_count();
  return total;
}

}  // namespace switchboard
