#include "loop/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "base/clock.h"

namespace switchboard::loop {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

// The eventfd other threads write to after posting a task.
class EventLoop::Wakeup final : public IoHandler {
 public:
  explicit Wakeup(EventLoop& loop) : loop_(loop), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw_errno("eventfd");
  }
  ~Wakeup() { ::close(fd_); }

  void signal() {
    std::uint64_t one = 1;
    ssize_t ignored = ::write(fd_, &one, sizeof one);  // EAGAIN: already signalled
    (void)ignored;
  }
  void on_io(std::uint32_t) override {
    std::uint64_t count;
    ssize_t ignored = ::read(fd_, &count, sizeof count);
    (void)ignored;
    (void)loop_;
  }
  int fd() const { return fd_; }

 private:
  EventLoop& loop_;
  int fd_;
};

EventLoop::EventLoop()
    : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      now_ms_(base::monotonic_ms()),
      timers_(now_ms_),
      receive_buffer_(new char[kReceiveBufferSize]) {
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  wakeup_ = std::make_unique<Wakeup>(*this);
  add(wakeup_->fd(), *wakeup_, Interest::kRead);
}

EventLoop::~EventLoop() {
  wakeup_.reset();
  ::close(epoll_fd_);
}

void EventLoop::add(int fd, IoHandler& handler, Interest interest) {
  epoll_event event{};
  event.events = static_cast<std::uint32_t>(interest);
  event.data.ptr = &handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl(ADD)");
}

void EventLoop::modify(int fd, IoHandler& handler, Interest interest) {
  epoll_event event{};
  event.events = static_cast<std::uint32_t>(interest);
  event.data.ptr = &handler;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
}

void EventLoop::remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::post(TaskQueue::Task task) {
  if (tasks_.push(std::move(task))) wakeup_->signal();
}

void EventLoop::stop_soon() {
  post([this] { running_ = false; });
}

void EventLoop::add_end_of_iteration_hook(std::function<void()> hook) {
  end_of_iteration_hooks_.push_back(std::move(hook));
}

void EventLoop::refresh_clock() { now_ms_ = base::monotonic_ms(); }

void EventLoop::run_posted_tasks() {
  // Run only what is there now: a task that posts again runs next iteration,
  // so a self-reposting task cannot starve I/O.
  for (long n = tasks_.pending(); n > 0; --n) {
    while (!tasks_.run_one()) std::this_thread::yield();  // a producer mid-push
  }
}

void EventLoop::run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  running_ = true;
  while (running_) {
    int timeout = tasks_.pending() > 0 ? 0 : timers_.poll_timeout_ms(now_ms_);
    int ready = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    if (ready < 0 && errno != EINTR) throw_errno("epoll_wait");
    refresh_clock();
    for (int i = 0; i < ready; ++i) {
      static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
    }
    run_posted_tasks();
    timers_.advance(now_ms_);
    for (auto& hook : end_of_iteration_hooks_) hook();
  }
}

}  // namespace switchboard::loop
