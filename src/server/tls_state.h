// What the workers share about TLS: the context new handshakes use and
// the handshake failures counted for /metrics
// (switchboard_tls_handshake_failures_total{reason}).
//
// Threading: context is swapped by a reload on any thread and read by the
// workers at each accept (an atomic shared_ptr: an SSL keeps its SSL_CTX
// alive by itself, so the old context goes once its last session does);
// the counters are relaxed atomics, bumped by any worker and read by any
// thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "loop/io_status.h"
#include "loop/tls_server_context.h"

namespace switchboard::server {

struct TlsState {
  std::atomic<std::shared_ptr<const loop::TlsServerContext>> context;
  std::array<std::atomic<std::uint64_t>, loop::kTlsFailureKinds> failures{};

  void count(loop::TlsFailure failure) {
    failures[static_cast<std::size_t>(failure)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t counted(loop::TlsFailure failure) const {
    return failures[static_cast<std::size_t>(failure)].load(std::memory_order_relaxed);
  }
};

}  // namespace switchboard::server
