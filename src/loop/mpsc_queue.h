// A multi-producer single-consumer queue of tasks (D. Vyukov's intrusive
// MPSC node queue): producers never block or take a lock; the one consumer,
// the owning loop thread, pops in FIFO order per producer.
#pragma once

#include <atomic>
#include <functional>
#include <utility>

namespace switchboard::loop {

class TaskQueue {
 public:
  using Task = std::function<void()>;

  TaskQueue() : head_(&stub_), tail_(&stub_) {}
  ~TaskQueue() {
    while (pop()) {
    }
  }
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // Any thread. Returns true when the queue may have been empty before (the
  // consumer might be asleep and needs a wakeup).
  bool push(Task task) {
    Node* node = new Node{std::move(task), nullptr};
    Node* previous = head_.exchange(node, std::memory_order_acq_rel);
    previous->next.store(node, std::memory_order_release);
    return pending_.fetch_add(1, std::memory_order_acq_rel) == 0;
  }

  // Tasks pushed and not yet run (a push counts once it has returned).
  long pending() const { return pending_.load(std::memory_order_acquire); }

  // Consumer thread only. Runs one task; false when none is ready (empty, or
  // a producer is between its two steps: pending() still counts it).
  bool run_one() {
    Task task;
    if (!pop(&task)) return false;
    pending_.fetch_sub(1, std::memory_order_acq_rel);
    task();
    return true;
  }

 private:
  struct Node {
    Task task;
    std::atomic<Node*> next;
  };

  bool pop(Task* out = nullptr) {
    Node* tail = tail_;
    Node* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return false;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      if (out != nullptr) *out = std::move(tail->task);
      delete tail;
      return true;
    }
    if (tail != head_.load(std::memory_order_acquire)) return false;  // a push is half done
    stub_.next.store(nullptr, std::memory_order_relaxed);
    Node* previous = head_.exchange(&stub_, std::memory_order_acq_rel);
    previous->next.store(&stub_, std::memory_order_release);
    next = tail->next.load(std::memory_order_acquire);
    if (next == nullptr) return false;
    tail_ = next;
    if (out != nullptr) *out = std::move(tail->task);
    delete tail;
    return true;
  }

  std::atomic<Node*> head_;  // producers push here
  Node* tail_;               // consumer pops here
  Node stub_{};
  std::atomic<long> pending_{0};
};

}  // namespace switchboard::loop
