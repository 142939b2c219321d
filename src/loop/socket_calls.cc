#include "loop/socket_calls.h"

namespace switchboard::loop {

const SocketCalls kSystemSocketCalls = {::socket, ::bind, ::connect, ::getsockopt, ::send, ::recv};

const SocketCalls* socket_calls = &kSystemSocketCalls;

}  // namespace switchboard::loop
