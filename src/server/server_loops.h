// A worker's event loop, for the in-tree parts that run their own sockets on
// the server's workers (the Redis broker the hub builds). Not in the public
// API: an embedder talks to workers through Server::post and post_after.
#pragma once

#include "loop/event_loop.h"
#include "switchboard/server.h"

namespace switchboard::server {

struct ServerLoops {
  // Valid after Server::start(), until ~Server. Touch the loop only from
  // tasks that run on that worker.
  static loop::EventLoop& of(Server& server, unsigned worker) { return server.event_loop(worker); }
};

}  // namespace switchboard::server
