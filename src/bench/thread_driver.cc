#include "bench/thread_driver.h"

#include <cstring>

#include "base/clock.h"

namespace switchboard::bench {
ThreadDriver::ThreadDriver(const ThreadPlan& plan) : plan_(plan), random_(plan.seed) {
  const ConnectionContext context{&loop_, plan_.settings, this};
  ConnectionContext first_context = context;
  if (plan_.first_settings != nullptr) first_context.settings = plan_.first_settings;
  connections_.reserve(plan_.connections);
  for (std::uint32_t i = 0; i < plan_.connections; ++i) {
    const std::uint64_t a = random_();
    const std::uint64_t b = random_();
    const std::uint64_t c = random_();
    codec::MaskKey mask;
    std::memcpy(mask.data(), &a, mask.size());
    std::array<std::uint8_t, 16> key;
    std::memcpy(key.data(), &b, 8);
    std::memcpy(key.data() + 8, &c, 8);
    connections_.push_back(std::make_unique<LoadConnection>(i == 0 ? first_context : context, i, mask, key));
  }
}

ThreadDriver::~ThreadDriver() = default;

void ThreadDriver::run() { loop_.run(); }

std::uint64_t ThreadDriver::now() const { return base::monotonic_ns() - plan_.epoch_ns; }

void ThreadDriver::start_connecting() { pump(); }

void ThreadDriver::pump() {
  // A connect(2) can fail at once (refused on loopback) and call back into
  // here through on_done: loop instead of recursing once per connection.
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    while (!closing_ && in_progress_ < plan_.concurrency && next_to_start_ < connections_.size()) {
      LoadConnection& connection = *connections_[next_to_start_];
      const std::uint64_t global = std::uint64_t{next_to_start_} * plan_.thread_count + plan_.thread_index;
      ++next_to_start_;
      ++in_progress_;
      // The source addresses were chosen for --url's target; a connection
      // with its own target is one connection, which the kernel's choice
      // of source port cannot run short of.
      const std::vector<sockaddr_in>& sources = *plan_.sources;
      const bool own_target = connection.index() == 0 && plan_.first_settings != nullptr;
      connection.start(sources.empty() || own_target ? nullptr : &sources[global % sources.size()]);
    }
  } while (pump_again_);
  pumping_ = false;
}

void ThreadDriver::on_open(LoadConnection& connection) {
  --in_progress_;
  ++result_.opened;
  result_.handshake.record(connection.handshake_ns());
  bump(live_.opened);
  bump(live_.settled);
  live_.last_open_ns.store(base::monotonic_ns(), std::memory_order_relaxed);
  if (connection.index() == 0) live_.first_open.store(true, std::memory_order_relaxed);
  scenario_open(connection);
  pump();
}

void ThreadDriver::on_error(LoadConnection& connection, ErrorKind kind) {
  std::string detail;
  if (connection.system_error() != 0) {
    detail = std::strerror(connection.system_error());
  } else if (connection.handshake_error() != client::HandshakeError::kNone) {
    detail = client::describe(connection.handshake_error());
    if (connection.http_status() != 0) detail += " (HTTP " + std::to_string(connection.http_status()) + ")";
  } else if (kind == ErrorKind::kHandshakeRejected) {
    detail = "closed during the handshake";
  } else if (kind == ErrorKind::kProtocol) {
    detail = codec::describe(connection.violation());
  } else if (kind == ErrorKind::kUnexpectedClose) {
    detail = connection.close_code() != 0 ? "close " + std::to_string(connection.close_code()) : "EOF";
  }
  count_error(kind, detail);
}

void ThreadDriver::count_error(ErrorKind kind, std::string_view detail) {
  result_.errors.add(kind);
  bump(live_.errors);
  if (result_.first_error.empty()) {
    result_.first_error = error_name(kind);
    if (!detail.empty()) {
      result_.first_error += ": ";
      result_.first_error += detail;
    }
  }
}

void ThreadDriver::on_done(LoadConnection& connection) {
  if (connection.handshake_ns() == 0) {
    // Finished before it opened: a failed connection (or one dropped by
    // close_all() while connecting, which the runner counts the same way).
    --in_progress_;
    ++result_.failed;
    bump(live_.settled);
  }
  ++done_;
  bump(live_.done);
  scenario_done(connection);
  if (closing_ && done_ == connections_.size()) {
    live_.finished.store(true, std::memory_order_release);
    loop_.quit();
    return;
  }
  pump();
}

void ThreadDriver::close_all() {
  closing_ = true;
  measuring_ = false;
  for (auto& connection : connections_) {
    if (connection->state() == LoadConnection::State::kIdle) {
      ++done_;  // never started (the run was cut short): nothing to close
      bump(live_.done);
    }
    connection->close();
  }
  if (done_ == connections_.size()) {
    live_.finished.store(true, std::memory_order_release);
    loop_.quit();
  }
}

}  // namespace switchboard::bench
