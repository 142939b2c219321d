// One epoll event loop per worker thread (see DESIGN "Threading model").
//
// Each iteration: wait for I/O (or the next timer tick), dispatch ready
// handlers, run tasks posted from other threads, advance the timer wheel,
// then run the end-of-iteration hooks (where batched writes get flushed).
//
// Threading: everything but post(), stop_soon() and the constructor runs on
// the loop's own thread.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "loop/mpsc_queue.h"
#include "loop/timer_wheel.h"

namespace switchboard::loop {

// Anything registered with the loop: a listener, a connection, the wakeup fd.
class IoHandler {
 public:
  // events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP bits.
  virtual void on_io(std::uint32_t events) = 0;

 protected:
  ~IoHandler() = default;
};

enum class Interest : std::uint32_t {
  kRead = EPOLLIN | EPOLLRDHUP,
  kReadWrite = EPOLLIN | EPOLLRDHUP | EPOLLOUT,
  kWrite = EPOLLOUT,
  kNone = 0,
};

class EventLoop {
 public:
  // Bytes of the loop-wide receive buffer: one per loop, not per socket, so
  // an idle connection owns no receive memory.
  static constexpr std::size_t kReceiveBufferSize = 512 * 1024;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop_soon() (from any thread) or quit() (from this thread).
  void run();
  void quit() { running_ = false; }

  // Any thread: run task on this loop's thread soon, in posting order per
  // posting thread.
  void post(TaskQueue::Task task);
  // Any thread: make run() return after the current iteration.
  void stop_soon();

  void add(int fd, IoHandler& handler, Interest interest);
  void modify(int fd, IoHandler& handler, Interest interest);
  void remove(int fd);

  TimerWheel& timers() { return timers_; }
  // The time this iteration started (one clock read per iteration).
  std::uint64_t now_ms() const { return now_ms_; }
  void arm(Timer& timer, std::uint64_t delay_ms) { timers_.arm(timer, now_ms_, delay_ms); }

  char* receive_buffer() { return receive_buffer_.get(); }

  // Runs after I/O, tasks and timers of each iteration, in registration order.
  void add_end_of_iteration_hook(std::function<void()> hook);

 private:
  class Wakeup;
  void run_posted_tasks();
  void refresh_clock();

  int epoll_fd_ = -1;
  std::unique_ptr<Wakeup> wakeup_;
  TaskQueue tasks_;
  std::uint64_t now_ms_ = 0;
  TimerWheel timers_;
  std::unique_ptr<char[]> receive_buffer_;
  std::vector<std::function<void()>> end_of_iteration_hooks_;
  bool running_ = false;
};

}  // namespace switchboard::loop
