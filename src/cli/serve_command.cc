#include "cli/serve_command.h"

#include <unistd.h>  // environ

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "base/result.h"
#include "cli/broadcast_handler.h"
#include "cli/echo_handler.h"
#include "cli/serve_settings.h"
#include "http/query.h"
#include "hub/rpc_proxy.h"
#include "loop/listener.h"
#include "loop/tls_server_context.h"
#include "protocol/subprotocol.h"
#include "switchboard/hub.h"
#include "switchboard/server.h"

namespace switchboard::cli {
namespace {

// The name of every variable in this process's environment.
std::vector<std::string> environment_variable_names() {
  std::vector<std::string> names;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    names.emplace_back(text.substr(0, text.find('=')));
  }
  return names;
}

// What the command line said, applied after the file and the environment.
struct ServeFlags {
  std::string config_path;
  bool echo = false;
  bool broadcast = false;
  bool print_config = false;
  std::vector<std::string> namespaces;
  struct Given {
    CLI::Option* option;
    std::string text;  // scalar and list keys; lists joined with ','
    std::vector<std::string> items;
    bool flag = false;
  };
  std::map<std::string, Given> keys;  // by key, "server.port"
};

// A reload refuses an empty config file: it is far more likely a truncated
// write than a wish to run on the defaults (which check no token).
enum class EmptyFile : std::uint8_t { kAllowed, kRefused };

bool is_blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Defaults, then the file, then SWITCHBOARD_*, then flags.
base::Result<void> load_settings(ServeFlags& flags, ServeSettings* settings,
                                 EmptyFile empty_file = EmptyFile::kAllowed) {
  if (base::Result<void> checked = check_environment_names(environment_variable_names()); !checked) return checked;
  std::string path = flags.config_path;
  if (path.empty()) {
    if (const char* from_environment = std::getenv("SWITCHBOARD_CONFIG")) path = from_environment;
  }
  if (!path.empty()) {
    std::ifstream file(path);
    if (!file) return base::Error(path + ": cannot read the config file");
    std::ostringstream text;
    text << file.rdbuf();
    if (empty_file == EmptyFile::kRefused && is_blank(text.str())) {
      return base::Error(path +
                         ": the config file is empty (a reload needs the whole file; to run on the defaults, restart)");
    }
    if (base::Result<void> applied = apply_toml(*settings, text.str(), path); !applied) return applied;
  }
  if (base::Result<void> applied = apply_environment(*settings, [](const char* name) { return std::getenv(name); });
      !applied) {
    return applied;
  }
  for (auto& [key, given] : flags.keys) {
    if (given.option->count() == 0) continue;
    std::string text = given.text;
    if (given.option->get_expected_max() != 1 && !given.items.empty()) {
      text.clear();
      for (const std::string& item : given.items) text += (text.empty() ? "" : ",") + item;
    }
    if (given.option->get_expected_max() == 0) text = given.flag ? "true" : "false";
    if (base::Result<void> applied = apply_text(*settings, key, text, given.option->get_name()); !applied) {
      return applied;
    }
  }
  // --namespace entries come first: the first matching pattern wins.
  std::vector<NamespaceOptions> from_flags;
  for (const std::string& text : flags.namespaces) {
    base::Result<NamespaceOptions> options = parse_namespace_flag(text);
    if (!options) return base::Error(options.error());
    from_flags.push_back(*std::move(options));
  }
  settings->hub.namespaces.insert(settings->hub.namespaces.begin(), from_flags.begin(), from_flags.end());
  if (base::Result<void> valid = validate(*settings); !valid) return valid;
  // The words of the settings into the server's types.
  settings->server.tls_min_version = settings->tls_min_version == "1.3" ? TlsVersion::k1_3 : TlsVersion::k1_2;
  if (settings->tls_port != 0) settings->server.tls_port = settings->tls_port;
  settings->server.tls_client_auth = settings->tls_client_auth == "required"   ? TlsClientAuth::kRequired
                                     : settings->tls_client_auth == "optional" ? TlsClientAuth::kOptional
                                                                               : TlsClientAuth::kNone;
  return {};
}

// SIGHUP's work: the settings loaded as at the start (but an empty file is
// refused), the key files read, and the hub given what it can change while
// running.
base::Result<void> reload_settings(ServeFlags& flags, Hub& hub) {
  ServeSettings fresh;
  if (base::Result<void> loaded = load_settings(flags, &fresh, EmptyFile::kRefused); !loaded) return loaded;
  if (base::Result<void> keys = load_key_files(&fresh); !keys) return keys;
  // Hub::reload is public API, where "" means done.
  if (std::string refused = hub.reload(fresh.hub); !refused.empty()) return base::Error(std::move(refused));
  return {};
}

int run_serve(ServeFlags& flags) {
  ServeSettings settings;
  if (const base::Result<void> loaded = load_settings(flags, &settings); !loaded) {
    std::fprintf(stderr, "switchboard serve: %s\n", loaded.error().c_str());
    return 2;
  }
  if (flags.print_config) {
    std::fputs(to_toml(settings).c_str(), stdout);
    // Also where a person sees it when the output goes to a file.
    for (const std::string& key : redacted_secrets(settings)) {
      std::fprintf(stderr,
                   "switchboard serve: --print-config: %s is not printed; a server started from this output "
                   "refuses to start until it is given as a value, { env = \"VARIABLE\" } or { file = \"PATH\" }\n",
                   key.c_str());
    }
    return 0;
  }
  const std::string& level = settings.log_level;
  base::set_log_level(level == "debug"   ? base::LogLevel::kDebug
                      : level == "warn"  ? base::LogLevel::kWarn
                      : level == "error" ? base::LogLevel::kError
                      : level == "off"   ? base::LogLevel::kOff
                                         : base::LogLevel::kInfo);
  base::set_log_format(settings.log_format == "json" ? base::LogFormat::kJson : base::LogFormat::kText);
  // The largest message must be able to pass the byte bucket.
  RateLimitConfig& limits = settings.hub.limits;
  limits.bytes_burst = std::max<std::uint64_t>(limits.bytes_burst, settings.server.max_message_size);
  if (const base::Result<void> keys = load_key_files(&settings); !keys) {
    std::fprintf(stderr, "switchboard serve: %s\n", keys.error().c_str());
    return 2;
  }
  EchoHandler echo;
  BroadcastHandler broadcast;
  std::unique_ptr<Hub> hub_holder;
  settings.hub.broker_url = settings.broker_url;
  settings.hub.send_permission = *send_permission_from_name(settings.send_permission);  // validated
  try {
    hub_holder = std::make_unique<Hub>(settings.hub);
  } catch (const std::invalid_argument& error) {
    // Unusable keys: named by their key, like every other settings problem.
    std::fprintf(stderr, "switchboard serve: %s\n", error.what());
    return 2;
  }
  Hub& hub = *hub_holder;
  if (settings.insecure_user_query) {
    // Development only: whoever connects says who they are.
    hub.set_authenticator([](const HttpRequest& request) -> std::optional<Principal> {
      Principal principal;
      if (std::optional<std::string> user = http::query_parameter(request.target, "user")) principal.user = *user;
      return principal;
    });
    base::log(base::LogLevel::kWarn, "dev.insecure_user_query: clients choose their own user id with ?user=");
    if (settings.hub.auth.required) {
      base::log(base::LogLevel::kWarn,
                "dev.insecure_user_query_bypasses_auth: auth.required is set, yet ?user=NAME connects as NAME "
                "without a token");
    }
  }
  WebSocketHandler& handler = flags.echo        ? static_cast<WebSocketHandler&>(echo)
                              : flags.broadcast ? static_cast<WebSocketHandler&>(broadcast)
                                                : hub;
  Server server(settings.server, handler);
  if (&handler == &hub) {
    hub.add_routes(server, settings.api_key);
    // SIGHUP: the file, the environment and the flags again; keys and
    // namespaces change without dropping a connection, the rest needs a
    // restart, and so does switching a token check off (Hub::reload).
    server.on_reload_signal([&flags, &hub] {
      if (const base::Result<void> reloaded = reload_settings(flags, hub); reloaded) {
        base::log(base::LogLevel::kInfo, "reloaded: auth keys and namespaces");
      } else {
        base::log(base::LogLevel::kError, "reload refused, nothing changed: %s", reloaded.error().c_str());
      }
    });
  }
  // Declared after the server so that it goes first: its last answers are
  // posted to workers that still exist (stopped, they drop them).
  std::unique_ptr<hub::RpcProxy> rpc_proxy;
  if (!settings.rpc_proxy_url.empty()) {
    rpc_proxy = std::make_unique<hub::RpcProxy>(settings.rpc_proxy_url, settings.hub.rpc_timeout_ms,
                                                settings.hub.max_rpc_answer_size);
    hub.on_any_rpc([proxy = rpc_proxy.get()](const RpcCall& call, RpcReply reply) { proxy->forward(call, reply); });
  }
  try {
    server.start();
  } catch (const loop::ListenError& error) {
    // The address or port cannot be used (another server listens there,
    // say): a settings problem like the others.
    std::fprintf(stderr, "switchboard serve: %s\n", error.what());
    return 2;
  } catch (const loop::TlsSetupError& error) {
    // A certificate or key missing, unreadable or not matching: the same.
    std::fprintf(stderr, "switchboard serve: %s\n", error.what());
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "switchboard serve: %s\n", error.what());
    return 1;
  }
  // Scripts and tests wait for this line; with --port 0 it tells the port.
  std::printf("listening on %s:%u\n", settings.server.host.c_str(), static_cast<unsigned>(server.port()));
  if (server.tls_port() != 0) {
    std::printf("TLS on %s:%u\n", settings.server.host.c_str(), static_cast<unsigned>(server.tls_port()));
  }
  std::fflush(stdout);
  base::log(base::LogLevel::kInfo, "%s server on %s:%u, %u workers",
            flags.echo                                 ? "echo"
            : flags.broadcast                          ? "broadcast"
            : settings.broker_url.starts_with("redis") ? "hub (protocol v1, redis broker)"
                                                       : "hub (protocol v1, memory broker)",
            settings.server.host.c_str(), static_cast<unsigned>(server.port()), server.worker_count());
  server.wait();
  base::log(base::LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Run the server: the messaging hub (protocol v1, subprotocol " + std::string(protocol::kSubprotocol) +
          ") unless --echo or --broadcast. Settings: defaults < --config FILE (TOML) < SWITCHBOARD_* environment < "
          "flags (docs/CONFIG.md)");
  serve->add_option("--config", flags->config_path, "TOML config file (also SWITCHBOARD_CONFIG)");
  serve->add_flag("--print-config", flags->print_config, "Print the effective settings as TOML and exit");
  auto* echo = serve->add_flag("--echo", flags->echo, "Echo every message back to its sender (RFC 6455 echo server)");
  serve->add_flag("--broadcast", flags->broadcast, "Send every message to every open connection (fan-out benchmark)")
      ->excludes(echo);
  const ServeSettings defaults;
  for (const KeyInfo& key : setting_keys()) {
    if (key.flag[0] == '\0') continue;
    ServeFlags::Given& given = flags->keys[key.key];
    const std::string help =
        std::string(key.help) + " [" + key.key + ", default " + value_as_toml(defaults, key.key) + "]";
    switch (key.type) {
      case KeyType::kBool:
        given.option = serve->add_flag(key.flag, given.flag, help);
        break;
      case KeyType::kStringList:
        given.option = serve->add_option(key.flag, given.items, help);
        break;
      case KeyType::kString:
      case KeyType::kUnsigned:
        given.option = serve->add_option(key.flag, given.text, help);
        break;
    }
  }
  serve
      ->add_option("--namespace", flags->namespaces,
                   "Channel namespace options, repeatable, before the file's: 'chat:*=presence,join_leave', "
                   "'news=no_client_publish'")
      ->type_name("PATTERN=OPTIONS");
  serve->callback([flags] { throw CLI::RuntimeError(run_serve(*flags)); });
}

}  // namespace switchboard::cli
