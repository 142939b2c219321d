// The recover scenario's measurement, run by the runner once every
// connection has settled: the setup round, then --storms times a storm
// round (measured: its time from the first subscribe sent to the last
// reply received, and the server's CPU over it with --server-pid) followed
// by an unsubscribe round (not measured). See recover_scenario.h for what
// each round does on the threads.
//
// Each round is bounded (setup and storm 120 s, unsubscribe 30 s); one that
// overruns sets watchdog_fired and ends the measurement, as SIGINT/SIGTERM
// do (interrupted). Fills the stream and storm figures of the result, its
// window (the storms' time and server CPU, summed) and aborted when the
// setup failed.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "bench/phase_clock.h"
#include "bench/runner.h"
#include "bench/thread_driver.h"

namespace switchboard::bench {

// drivers are RecoverDrivers; server_cpu reads the server's CPU seconds
// (-1: unknown).
void run_recover_rounds(std::vector<std::unique_ptr<ThreadDriver>>& drivers, PhaseClock& clock,
                        const std::function<double()>& server_cpu, RunResult& result);

}  // namespace switchboard::bench
