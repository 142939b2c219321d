// The task behind Node::post<&Role::fn>(worker, args...): a closure that
// keeps its owner (the node) alive, and calls fn on one role with the
// arguments it holds. Its capture is what a hand-written post lambda held
// (the node's shared_ptr, where to run, the arguments), so wrapping it in
// the std::function that Server::post takes costs the same one allocation
// (tests/unit/hub/role_task_test.cc counts them).
#pragma once

#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

namespace switchboard::hub {

template <typename>
struct MemberOf;
template <typename R, typename C, typename... P>
struct MemberOf<R (C::*)(P...)> {
  using Class = C;
};

// Fn: a member function of Role. args are copied or moved into the task:
// never a view, since the task runs later, on another thread.
template <auto Fn, typename Keep, typename... Args>
auto role_task(std::shared_ptr<Keep> keep, typename MemberOf<decltype(Fn)>::Class* role, Args&&... args) {
  static_assert(((!std::is_same_v<std::decay_t<Args>, std::string_view> &&
                  !std::is_same_v<std::decay_t<Args>, const char*>)&&...),
                "a posted task runs later: pass owned strings, not views");
  return [keep = std::move(keep), role, ... args = std::forward<Args>(args)]() mutable {
    (role->*Fn)(std::move(args)...);
  };
}

}  // namespace switchboard::hub
