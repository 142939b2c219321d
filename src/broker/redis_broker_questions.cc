// RedisBroker: questions every node answers (the HTTP API's cluster-wide
// counts), and the distinct users and channels Redis knows of.
#include <algorithm>

#include "broker/envelope.h"
#include "broker/redis_broker.h"
#include "broker/redis_broker_links.h"
#include "loop/event_loop.h"

namespace switchboard::broker {

void RedisBroker::ask_nodes(std::string_view question, AskDone done) {
  const std::string redis_channel = key("nodes", "all");
  ShardLinks& links = links_for(0, redis_channel);
  if (!links.commands_up) {
    done({}, false);
    return;
  }
  const std::uint64_t id = ++next_question_;
  auto waiting = std::make_unique<Question>();
  waiting->broker = this;
  waiting->id = id;
  waiting->done = std::move(done);
  loops_[0]->arm(waiting->timer, options_.ask_timeout_ms);
  questions_.emplace(id, std::move(waiting));
  const std::string envelope = format_question(id, node_id_, question);
  // PUBLISH answers how many nodes got the question: the answers to expect.
  links.commands->command({publish_verb_, redis_channel, envelope}, [this, id](const redis::Reply& reply) {
    auto it = questions_.find(id);
    if (it == questions_.end()) return;
    if (reply.type != redis::ReplyType::kInteger) {
      finish_question(id, QuestionEnd::kCutShort);
      return;
    }
    it->second->expected = static_cast<std::uint64_t>(std::max(0LL, reply.integer));
    if (it->second->answers.size() >= *it->second->expected) finish_question(id, QuestionEnd::kAllAnswered);
  });
}

void RedisBroker::count_distinct(CountsDone done) {
  // Every master knows the channels subscribed on it; a cluster's are
  // disjoint, so the counts add up.
  struct Tally {
    std::size_t left = 0;
    bool ok = true;
    std::uint64_t users = 0;
    std::uint64_t channels = 0;
    CountsDone done;
  };
  auto tally = std::make_shared<Tally>();
  const auto& shards = workers_[0]->shards;
  tally->left = 0;
  for (const auto& shard : shards) tally->left += shard->retired ? 0 : 2;
  tally->done = std::move(done);
  const std::string_view verb = options_.cluster ? "SHARDCHANNELS" : "CHANNELS";
  for (const auto& shard : shards) {
    if (shard->retired) continue;
    if (!shard->commands_up) {
      tally->ok = false;
    }
    for (const bool users : {true, false}) {
      const std::string pattern = options_.key_prefix + (users ? "user:{*" : "ch:{*");
      shard->commands->command({"PUBSUB", verb, pattern}, [tally, users](const redis::Reply& reply) {
        if (reply.type != redis::ReplyType::kArray) tally->ok = false;
        (users ? tally->users : tally->channels) += reply.elements.size();
        if (--tally->left == 0) tally->done(tally->ok, tally->users, tally->channels);
      });
    }
  }
}

void RedisBroker::on_question(std::string_view payload) {
  QuestionEnvelope question;
  if (!parse_question(payload, &question)) return;
  sink_->on_question(
      question.text, [this, alive = alive_, asker = std::string(question.asker), id = question.id](std::string answer) {
        loops_[0]->post([this, alive, asker, id, answer = std::move(answer)] {
          if (!*alive) return;
          const std::string redis_channel = key("node", asker);
          links_for(0, redis_channel).commands->command({publish_verb_, redis_channel, format_answer(id, answer)}, {});
        });
      });
}

void RedisBroker::on_answer(std::string_view payload) {
  std::uint64_t id = 0;
  std::string_view answer;
  if (!parse_answer(payload, &id, &answer)) return;
  auto it = questions_.find(id);
  if (it == questions_.end()) return;  // too late
  Question& question = *it->second;
  question.answers.emplace_back(answer);
  if (question.expected && question.answers.size() >= *question.expected) {
    finish_question(id, QuestionEnd::kAllAnswered);
  }
}

void RedisBroker::finish_question(std::uint64_t id, QuestionEnd end) {
  auto it = questions_.find(id);
  if (it == questions_.end()) return;
  std::unique_ptr<Question> question = std::move(it->second);
  questions_.erase(it);
  question->done(std::move(question->answers), end == QuestionEnd::kAllAnswered);
}

void RedisBroker::on_question_timeout(void* context) {
  auto& question = *static_cast<Question*>(context);
  question.broker->finish_question(question.id, QuestionEnd::kCutShort);
}

}  // namespace switchboard::broker
