// Forwards rpc calls to an HTTP backend (hub.rpc_proxy_url): each call is
// a POST of {"user": ..., "client": ..., "method": ..., "data": ...} as
// JSON; a 2xx answer's body (which must be JSON) becomes the reply; another
// status or a transport error becomes error 115 with a message saying which
// (and the start of that status's body). A 2xx body over max_answer_size is
// not read past that size: the transfer stops and the client gets error 115
// (RpcReply::fail_too_large). The hub's rpc timeout applies as usual, and
// the HTTP request is given up a second after it.
//
// libcurl's multi interface runs on an EventLoop of ours, on one thread of
// its own: the workers only post requests to it, so a slow backend never
// stalls message traffic.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "switchboard/hub.h"

namespace switchboard::hub {

class SocketWatch;

class RpcProxy {
 public:
  // Starts the proxy's thread. max_answer_size: HubConfig::max_rpc_answer_size.
  RpcProxy(std::string url, std::uint64_t timeout_ms, std::uint64_t max_answer_size);
  // Fails what is still in flight ("server stopping") and joins the thread.
  ~RpcProxy();
  RpcProxy(const RpcProxy&) = delete;
  RpcProxy& operator=(const RpcProxy&) = delete;

  // Any thread. The body of the POST that forward() sends for call.
  void forward(const RpcCall& call, RpcReply reply);
  static std::string request_body(const RpcCall& call);

 private:
  friend class SocketWatch;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchboard::hub
