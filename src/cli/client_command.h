// `switchboard client URL`: a wscat-style terminal client of protocol v1 on
// the C++ client library (include/switchboard/client.h). Commands come from
// stdin, one per line; everything that happens is printed to stdout, as
// readable lines or (--json) one JSON object per line.
#pragma once

#include <CLI/CLI.hpp>

namespace switchboard::cli {

// Adds the `client` subcommand to app; it runs when parsed.
void add_client_command(CLI::App& app);

}  // namespace switchboard::cli
