// What the broker asks of every node (BrokerSink::on_question, for the HTTP
// API's cluster-wide answers) and the broadcast every node receives.
#include <mutex>
#include <string>
#include <utility>

#include "hub/node.h"

namespace switchboard::hub {

void Node::on_question(std::string_view question, std::function<void(std::string answer)> answer) {
  if (question == "stats") {
    const HubStats counts = stats();
    answer("{\"connections\":" + std::to_string(counts.connections) + ",\"users\":" + std::to_string(counts.users) +
           ",\"channels\":" + std::to_string(counts.channels) + "}");
  } else if (question == "channels") {
    list_local_channels(std::move(answer));
  } else if (question.starts_with("user ")) {
    // How many connections the user has here: its owner worker knows.
    std::string user(question.substr(5));
    const unsigned worker = owner_of(user);
    post_task(worker, [node = shared_from_this(), worker, user = std::move(user), answer = std::move(answer)] {
      answer("{\"connections\":" + std::to_string(node->owner(worker).user_connections(user)) + "}");
    });
  } else {
    answer("null");  // a question from a newer node: it gets no usable answer, but not a silent wait
  }
}

void Node::list_local_channels(std::function<void(std::string json_array)> done) {
  // Each owner lists the channels it owns; the answer is their union.
  struct Gathered {
    std::mutex mutex;
    std::size_t left;
    std::string parts;
    std::function<void(std::string)> done;
  };
  auto gathered = std::make_shared<Gathered>();
  gathered->left = workers_.size();
  gathered->done = std::move(done);
  for (unsigned worker = 0; worker < workers_.size(); ++worker) {
    post_task(worker, [node = shared_from_this(), worker, gathered] {
      const std::string part = node->owner(worker).channels_json();
      std::unique_lock lock(gathered->mutex);
      if (!part.empty()) {
        if (!gathered->parts.empty()) gathered->parts += ',';
        gathered->parts += part;
      }
      if (--gathered->left != 0) return;
      std::string list = "[" + gathered->parts + "]";
      lock.unlock();
      gathered->done(std::move(list));
    });
  }
}

void Node::on_broadcast(std::string_view text) {
  // Serialised once, here; every worker sends the same frame.
  const SharedMessage frame = SharedMessage::make(std::string(text), Opcode::kText);
  for (unsigned worker = 0; worker < workers_.size(); ++worker) post<&LocalRole::deliver_to_everyone>(worker, frame);
}

}  // namespace switchboard::hub
