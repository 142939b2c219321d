// `switchboard bench <scenario>`: flags to BenchOptions, run, report.
#pragma once

#include <CLI/CLI.hpp>

namespace switchboard::cli {

// Adds the `bench` subcommand (echo, broadcast, connect, pubsub) to app;
// it runs when parsed.
void add_bench_command(CLI::App& app);

}  // namespace switchboard::cli
