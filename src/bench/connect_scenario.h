// The connect scenario: open C connections (at most K handshakes in
// progress), hold them idle for H seconds answering pings, close them all.
// Figures: handshake time per connection, handshakes per second and, with
// --server-pid, the server's resident memory per idle connection
// (bench/server_process.h).
//
// Threading: see ThreadDriver.
#pragma once

#include <string_view>

#include "bench/thread_driver.h"

namespace switchboard::bench {

class ConnectDriver final : public ThreadDriver {
 public:
  explicit ConnectDriver(const ThreadPlan& plan) : ThreadDriver(plan) {}

  // An idle connection expects no messages; one that comes is ignored.
  void on_message(LoadConnection&, Opcode, std::string_view) override {}
};

}  // namespace switchboard::bench
