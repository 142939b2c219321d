// The `switchboard` binary: one program, a subcommand per job.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/bench_command.h"
#include "cli/client_command.h"
#include "cli/serve_command.h"
#include "cli/token_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Switchboard: a real-time WebSocket messaging server"};
  app.require_subcommand(1);
  switchboard::cli::add_serve_command(app);
  switchboard::cli::add_bench_command(app);
  switchboard::cli::add_token_command(app);
  switchboard::cli::add_client_command(app);
  app.add_subcommand("version", "Print the version")->callback([] { std::printf("switchboard 0.1.0\n"); });
  CLI11_PARSE(app, argc, argv);
  return 0;
}
