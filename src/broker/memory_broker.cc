#include "broker/memory_broker.h"

namespace switchboard::broker {

MemoryBroker::MemoryBroker(unsigned workers) : offsets_(workers) {}

void MemoryBroker::subscribe(unsigned owner_worker, std::string_view channel, std::function<void()> in_place) {
  offsets_[owner_worker].try_emplace(std::string(channel), 0);
  in_place();
}

void MemoryBroker::unsubscribe(unsigned owner_worker, std::string_view channel) {
  auto& table = offsets_[owner_worker];
  if (auto it = table.find(channel); it != table.end()) table.erase(it);
}

void MemoryBroker::publish(unsigned owner_worker, const Publication& publication, PublishDone done) {
  auto& table = offsets_[owner_worker];
  auto it = table.find(publication.channel);
  if (it == table.end()) {
    // Nobody on this node listens, and there is no other node: accepted,
    // delivered to no one, not numbered.
    done({PublishStatus::kAccepted, 0});
    return;
  }
  Publication numbered = publication;
  numbered.offset = ++it->second;
  sink_->on_publication(owner_worker, numbered);
  done({PublishStatus::kAccepted, numbered.offset});
}

void MemoryBroker::send_to_user(unsigned owner_worker, const UserMessage& message, UserSendDone done) {
  if (message.elsewhere_only) {
    done({PublishStatus::kAccepted, 0});  // there is no elsewhere
    return;
  }
  const bool here = sink_->on_user_message(owner_worker, message);
  done({PublishStatus::kAccepted, here ? 1u : 0u});
}

void MemoryBroker::ask_nodes(std::string_view question, AskDone done) {
  sink_->on_question(question, [done = std::move(done)](std::string answer) {
    std::vector<std::string> answers;
    answers.push_back(std::move(answer));
    done(std::move(answers), true);
  });
}

}  // namespace switchboard::broker
