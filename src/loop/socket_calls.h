// The socket system calls an OutboundStream makes (and TlsSession's BIO
// makes for it), behind one table, so a test can make any of them fail
// once at any step (Beast's fail loop:
// tests/unit/loop/outbound_stream_fail_test.cc). The product never changes
// the table: it holds the libc functions, and a call costs one indirect
// jump on top of the system call.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

namespace switchboard::loop {

struct SocketCalls {
  int (*socket)(int domain, int type, int protocol);
  int (*bind)(int fd, const sockaddr* address, socklen_t size);
  int (*connect)(int fd, const sockaddr* address, socklen_t size);
  int (*getsockopt)(int fd, int level, int name, void* value, socklen_t* size);
  ssize_t (*send)(int fd, const void* data, size_t size, int flags);
  ssize_t (*recv)(int fd, void* data, size_t size, int flags);
};

// The libc functions.
extern const SocketCalls kSystemSocketCalls;

// What OutboundStream calls: &kSystemSocketCalls unless a test swapped it
// (on the loop's thread, while no stream is connecting).
extern const SocketCalls* socket_calls;

}  // namespace switchboard::loop
