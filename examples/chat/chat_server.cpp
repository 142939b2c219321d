// The chat example: a page where people in several browsers talk in a room
// and see who is there, on the Hub (protocol v1) with a C++ rpc handler. The
// page's script (chat.js) uses the JavaScript SDK (clients/js), which this
// server hands out under /sdk/ from the SDK's build.
//
// Build: cmake --build build/release --target chat_server
//        cd clients/js && npm ci && npm run build    (the SDK, into dist/)
// Run:   build/release/examples/chat_server 8080 examples/chat [SDK_DIST]
//        then open http://localhost:8080/?user=ada in two browsers (another
//        name in the second). SDK_DIST defaults to
//        <chat dir>/../../clients/js/dist.
// Several nodes: give each the same Redis in CHAT_BROKER_URL (HubConfig's
// broker_url), e.g.
//        CHAT_BROKER_URL=redis://127.0.0.1:6379 build/release/examples/chat_server 8081 examples/chat
//        and again on port 8082: pages on either node share the room, its
//        presence and its history (kept in Redis, so a node that restarts
//        lets its pages recover what was said while they were away).
//
// The user name comes from ?user=, unchecked: fine for a demo on your own
// machine, not for the internet (use tokens there: docs/PROTOCOL.md).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "switchboard/hub.h"
#include "switchboard/server.h"

namespace {

std::optional<std::string> try_read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string read_file(const std::string& path) {
  std::optional<std::string> text = try_read_file(path);
  if (!text) {
    std::fprintf(stderr, "chat_server: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  return *text;
}

// A file of the SDK build to serve: a plain name (letters, digits, '.', '-',
// '_'; no '/', no "..", not hidden) of a script or its source map.
std::optional<std::string> sdk_content_type(const std::string& name) {
  if (name.empty() || name[0] == '.' || name.find("..") != std::string::npos) return std::nullopt;
  for (char c : name) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!plain) return std::nullopt;
  }
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".js.map")) return "application/json; charset=utf-8";
  return std::nullopt;
}

// GET /sdk/<name> for every such file in the SDK build. Routes match exact
// paths, so nothing else under /sdk/ is served (404). The names are taken at
// startup, the content at each request: a rebuilt SDK is served as it is now
// (a file name that was not there at startup needs a restart).
void serve_sdk(switchboard::Server& server, const std::string& sdk_directory) {
  std::error_code error;
  std::filesystem::directory_iterator files(sdk_directory, error);
  if (error || !std::filesystem::exists(sdk_directory + "/index.js")) {
    std::fprintf(stderr,
                 "chat_server: no SDK build in %s (the page needs /sdk/index.js): run "
                 "`cd clients/js && npm ci && npm run build`, or name the build as the 3rd argument\n",
                 sdk_directory.c_str());
  }
  for (; !error && files != std::filesystem::directory_iterator(); files.increment(error)) {
    const std::string name = files->path().filename().string();
    const std::optional<std::string> type = sdk_content_type(name);
    std::error_code not_a_file;
    if (!type || !files->is_regular_file(not_a_file)) continue;
    server.route("GET", "/sdk/" + name, [path = files->path().string(), type = *type](const switchboard::HttpRequest&) {
      std::optional<std::string> text = try_read_file(path);
      if (!text) return switchboard::HttpResponse{404, "text/plain; charset=utf-8", "not found\n"};
      return switchboard::HttpResponse{200, type, std::move(*text)};
    });
  }
}

// "?user=ada" -> "ada"; only letters, digits, '-' and '_' are kept.
std::string user_from(std::string_view target) {
  const std::size_t at = target.find("user=");
  if (at == std::string_view::npos) return "";
  std::string user;
  for (char c : target.substr(at + 5)) {
    if (c == '&') break;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      user.push_back(c);
    }
  }
  return user.substr(0, 32);
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  const std::string directory = argc > 2 ? argv[2] : "examples/chat";
  const std::string sdk_directory = argc > 3 ? argv[3] : directory + "/../../clients/js/dist";
  const std::string page = read_file(directory + "/index.html");
  const std::string script = read_file(directory + "/chat.js");

  switchboard::HubConfig hub_config;
  // Unset or empty: memory:// (this node alone; its history is lost when it stops).
  if (const char* broker_url = std::getenv("CHAT_BROKER_URL"); broker_url != nullptr && *broker_url != '\0') {
    hub_config.broker_url = broker_url;
  }
  switchboard::NamespaceOptions rooms;
  rooms.pattern = "room:*";
  rooms.presence = true;
  rooms.join_leave = true;
  // A stream per room: a page that reconnects recovers what was said while
  // it was away (the last 100 messages of the last 10 minutes).
  rooms.history_size = 100;
  rooms.history_ttl_s = 600;
  hub_config.namespaces.push_back(rooms);
  switchboard::Hub hub(hub_config);
  hub.set_authenticator([](const switchboard::HttpRequest& request) -> std::optional<switchboard::Principal> {
    switchboard::Principal principal;
    principal.user = user_from(request.target);
    if (principal.user.empty()) return std::nullopt;  // 401: pick a name first
    return principal;
  });
  // The seed's request/response example: answered here, at once.
  std::atomic<std::uint64_t> calls{0};
  hub.on_rpc("getUser", [&calls](const switchboard::RpcCall& call, switchboard::RpcReply reply) {
    const std::uint64_t n = ++calls;
    reply.ok("{\"user\":\"" + std::string(call.user) + "\",\"client\":\"" + std::string(call.client) +
             "\",\"rpc_calls\":" + std::to_string(n) + "}");
  });

  switchboard::ServerConfig config;
  config.port = port;
  switchboard::Server server(config, hub);
  server.route("GET", "/", [&page](const switchboard::HttpRequest&) {
    return switchboard::HttpResponse{200, "text/html; charset=utf-8", page};
  });
  server.route("GET", "/chat.js", [&script](const switchboard::HttpRequest&) {
    return switchboard::HttpResponse{200, "text/javascript; charset=utf-8", script};
  });
  serve_sdk(server, sdk_directory);
  try {
    server.start();
  } catch (const std::exception& error) {
    // The port is in use (another server listens there) or cannot be bound,
    // or CHAT_BROKER_URL is not a broker URL (std::invalid_argument).
    std::fprintf(stderr, "chat_server: %s\n", error.what());
    return 2;
  }
  std::printf("listening on %s:%u\n", config.host.c_str(), static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  server.wait();
}
