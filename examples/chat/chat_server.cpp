// The chat example: a page where people in several browsers talk in a room
// and see who is there, on the Hub (protocol v1) with a C++ rpc handler.
//
// Build: cmake --build build/release --target chat_server
// Run:   build/release/examples/chat_server 8080 examples/chat
//        then open http://localhost:8080/?user=ada in two browsers (another
//        name in the second).
//
// The user name comes from ?user=, unchecked: fine for a demo on your own
// machine, not for the internet (JWT authentication is issue #5).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "switchboard/hub.h"
#include "switchboard/server.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    std::fprintf(stderr, "chat_server: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
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
  const std::string page = read_file(directory + "/index.html");
  const std::string script = read_file(directory + "/chat.js");

  switchboard::HubConfig hub_config;
  switchboard::NamespaceOptions rooms;
  rooms.pattern = "room:*";
  rooms.presence = true;
  rooms.join_leave = true;
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
  server.start();
  std::printf("listening on %s:%u\n", config.host.c_str(), static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  server.wait();
}
