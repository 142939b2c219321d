// `switchboard client URL`: a wscat-style terminal client of protocol v1 on
// the C++ client library (include/switchboard/client.h). Commands come from
// stdin, one per line; everything that happens is printed to stdout, as
// readable lines or (--json) one JSON object per line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace switchboard::cli {

// One line of input, split: `pub chat:lobby {"text":"hi"}` is verb "pub",
// argument "chat:lobby", rest `{"text":"hi"}`.
struct InputLine {
  std::string verb;
  std::string argument;
  std::string rest;
};

// nullopt for a blank line or a # comment.
std::optional<InputLine> split_input_line(std::string_view line);

// Adds the `client` subcommand to app; it runs when parsed.
void add_client_command(CLI::App& app);

}  // namespace switchboard::cli
