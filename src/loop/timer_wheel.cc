#include "loop/timer_wheel.h"

namespace switchboard::loop {

void Timer::cancel() {
  if (wheel_ != nullptr) wheel_->unlink(*this);
}

TimerWheel::TimerWheel(std::uint64_t now_ms, std::uint64_t tick_ms, std::size_t slots)
    : tick_ms_(tick_ms), current_tick_(now_ms / tick_ms), slots_(slots, nullptr) {}

void TimerWheel::arm(Timer& timer, std::uint64_t now_ms, std::uint64_t delay_ms) {
  if (timer.wheel_ != nullptr) unlink(timer);
  // Round up so a timer never fires early; never schedule into the tick
  // being processed, which advance() has already swept.
  std::uint64_t due = (now_ms + delay_ms + tick_ms_ - 1) / tick_ms_;
  if (due <= current_tick_) due = current_tick_ + 1;
  timer.due_tick_ = due;
  timer.wheel_ = this;
  push_front(slots_[due % slots_.size()], timer);
  ++armed_;
}

void TimerWheel::push_front(Timer*& head, Timer& timer) {
  timer.prev_ = nullptr;
  timer.next_ = head;
  if (head != nullptr) head->prev_ = &timer;
  head = &timer;
}

Timer*& TimerWheel::head_of(Timer& timer) {
  return timer.due_tick_ == kFiringTick ? firing_ : slots_[timer.due_tick_ % slots_.size()];
}

void TimerWheel::unlink(Timer& timer) {
  if (timer.prev_ != nullptr) {
    timer.prev_->next_ = timer.next_;
  } else {
    head_of(timer) = timer.next_;
  }
  if (timer.next_ != nullptr) timer.next_->prev_ = timer.prev_;
  timer.prev_ = timer.next_ = nullptr;
  timer.wheel_ = nullptr;
  --armed_;
}

void TimerWheel::advance(std::uint64_t now_ms) {
  const std::uint64_t target = now_ms / tick_ms_;
  if (target <= current_tick_) return;
  // After a long sleep, one lap of the wheel visits every slot once.
  std::uint64_t tick = target - current_tick_ > slots_.size() ? target - slots_.size() : current_tick_;
  while (tick < target && armed_ > 0) {
    ++tick;
    // Move the due timers to the firing list first: a callback may cancel
    // or re-arm any timer (its own, or one due in this same slot), and a
    // timer on the firing list stays cancellable until it fires.
    Timer* timer = slots_[tick % slots_.size()];
    while (timer != nullptr) {
      Timer* next = timer->next_;
      if (timer->due_tick_ <= target) {
        unlink(*timer);
        timer->due_tick_ = kFiringTick;
        timer->wheel_ = this;
        push_front(firing_, *timer);
        ++armed_;
      }
      timer = next;
    }
    while (firing_ != nullptr) {
      Timer* due = firing_;
      unlink(*due);
      due->callback_(due->context_);
    }
  }
  current_tick_ = target;
}

int TimerWheel::poll_timeout_ms(std::uint64_t now_ms) const {
  if (armed_ == 0) return -1;
  std::uint64_t next_boundary = (now_ms / tick_ms_ + 1) * tick_ms_;
  return static_cast<int>(next_boundary - now_ms);
}

}  // namespace switchboard::loop
