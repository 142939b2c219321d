// `switchboard serve`: flags to ServerConfig, then run until drained.
#pragma once

#include <CLI/CLI.hpp>

namespace switchboard::cli {

// Adds the `serve` subcommand to app; it runs when parsed.
void add_serve_command(CLI::App& app);

}  // namespace switchboard::cli
