#include "bench/recover_scenario.h"

#include <algorithm>
#include <utility>

#include "base/clock.h"
#include "bench/recovery_reply.h"

namespace switchboard::bench {
namespace {

constexpr std::size_t kSequenceDigits = 16;
constexpr std::size_t kShownTextMax = 120;
// Around each publication: {"offset":<20 digits>,"data":<payload>} and a comma.
constexpr std::uint64_t kPublicationOverhead = 48;
constexpr std::uint64_t kEnvelopeOverhead = 4096;

void append_hex(std::string& out, std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kDigits[(value >> shift) & 0xF]);
}

std::string_view shown(std::string_view text) { return text.substr(0, kShownTextMax); }

}  // namespace

void write_recover_publish(std::string& out, std::uint64_t id, std::string_view channel, std::uint64_t sequence,
                           std::uint32_t payload_size) {
  out.clear();
  out += R"({"id":)";
  out += std::to_string(id);
  out += R"(,"type":"publish","channel":")";
  out += channel;  // a valid channel name needs no escaping
  out += R"(","data":")";
  append_hex(out, sequence);
  out.append(payload_size - kSequenceDigits, 'x');
  out += "\"}";
}

std::string make_recover_subscribe(std::uint64_t id, std::string_view channel, std::string_view epoch,
                                   std::uint64_t since) {
  // The epoch goes back as the server wrote it, escapes and all.
  return R"({"id":)" + std::to_string(id) + R"(,"type":"subscribe","channel":")" + std::string(channel) +
         R"(","recover":true,"since":{"offset":)" + std::to_string(since) + R"(,"epoch":")" + std::string(epoch) +
         "\"}}";
}

std::uint64_t recovery_frame_size(std::uint32_t publications, std::uint32_t payload_size) {
  return std::uint64_t{publications} * (payload_size + kPublicationOverhead) + kEnvelopeOverhead;
}

RecoverDriver::RecoverDriver(const ThreadPlan& plan, const RecoverSettings& settings, Publisher publisher)
    : ThreadDriver(plan), settings_(settings), publisher_(publisher), awaiting_(connections_.size(), Awaiting::kNo) {}

bool RecoverDriver::is_publisher(const LoadConnection& connection) const {
  return publisher_ == Publisher::kHere && connection.index() == 0;
}

void RecoverDriver::run_setup(std::uint64_t round) {
  round_ = round;
  live().round_first_send_ns.store(0, std::memory_order_relaxed);
  if (publisher_ != Publisher::kHere) {
    finish_round();
    return;
  }
  phase_ = Phase::kSetup;
  LoadConnection& publisher = *connections_[0];
  if (!publisher.is_open()) {
    fail_setup("the publisher's connection is not open");
    return;
  }
  live().round_first_send_ns.store(base::monotonic_ns(), std::memory_order_relaxed);
  publisher.begin_batch();
  for (std::uint32_t i = 0; i < settings_.inflight && next_sequence_ < settings_.publications && publisher.is_open();
       ++i) {
    publish(publisher);
  }
  publisher.end_batch();
}

void RecoverDriver::publish(LoadConnection& connection) {
  const std::uint64_t sequence = next_sequence_++;
  write_recover_publish(json_, sequence + 1, settings_.channel, sequence, settings_.payload_size);
  connection.send_text(json_, frame_);
}

void RecoverDriver::on_publish_reply(std::string_view text) {
  StreamReply reply;
  const ReplyKind kind = parse_stream_reply(text, &reply);
  if (kind != ReplyKind::kReply) {
    fail_setup("a publish was answered by " + std::string(shown(text)));
    return;
  }
  if (!reply.has_epoch) {
    fail_setup("the publish reply has no epoch: the channel " + settings_.channel +
               " keeps no stream; start the server with a namespace that keeps at least " +
               std::to_string(settings_.publications) + " publications, e.g. --namespace '*=history_size:" +
               std::to_string(settings_.publications) + ",history_ttl:300'");
    return;
  }
  if (publish_answers_ == 0) {
    setup_.epoch = std::string(reply.epoch);
  } else if (reply.epoch != setup_.epoch) {
    fail_setup("the stream's epoch changed during the setup");
    return;
  }
  setup_.top = std::max(setup_.top, reply.offset);
  ++publish_answers_;
  live().round_last_reply_ns.store(base::monotonic_ns(), std::memory_order_relaxed);
  if (publish_answers_ == settings_.publications) {
    finish_round();
  } else if (next_sequence_ < settings_.publications) {
    publish(*connections_[0]);
  }
}

void RecoverDriver::fail_setup(std::string problem) {
  if (phase_ != Phase::kSetup) return;
  setup_.problem = std::move(problem);
  finish_round();
}

void RecoverDriver::run_storm(std::uint64_t round, const std::string& epoch, std::uint64_t since, std::uint64_t top) {
  epoch_ = epoch;
  since_ = since;
  top_ = top;
  send_to_subscribers(round, Phase::kStorm, make_recover_subscribe(round, settings_.channel, epoch, since));
}

void RecoverDriver::run_unsubscribe(std::uint64_t round) {
  const std::string command =
      R"({"id":)" + std::to_string(round) + R"(,"type":"unsubscribe","channel":")" + settings_.channel + "\"}";
  send_to_subscribers(round, Phase::kUnsubscribe, command);
}

void RecoverDriver::send_to_subscribers(std::uint64_t round, Phase phase, std::string_view command) {
  round_ = round;
  phase_ = phase;
  pending_ = 0;
  live().round_first_send_ns.store(0, std::memory_order_relaxed);
  live().round_last_reply_ns.store(0, std::memory_order_relaxed);
  bool first = true;
  // A send that fails answers for its connection at once (scenario_done):
  // the round must not end before every command is out.
  sending_ = true;
  for (auto& connection : connections_) {
    if (is_publisher(*connection) || !connection->is_open()) continue;
    if (first) {
      live().round_first_send_ns.store(base::monotonic_ns(), std::memory_order_relaxed);
      first = false;
    }
    awaiting_[connection->index()] = Awaiting::kYes;
    ++pending_;
    connection->send_text(command, frame_);  // a failure comes back through scenario_done
  }
  sending_ = false;
  if (pending_ == 0) finish_round();
}

void RecoverDriver::on_message(LoadConnection& connection, Opcode opcode, std::string_view payload) {
  if (opcode != Opcode::kText) {
    count_error(ErrorKind::kMismatch, "a binary frame");
    return;
  }
  if (is_publisher(connection)) {
    if (phase_ == Phase::kSetup) {
      on_publish_reply(payload);
    } else if (setup_.problem.empty()) {  // after a failed setup, the replies still in flight
      count_error(ErrorKind::kMismatch, shown(payload));
    }
    return;
  }
  on_subscriber_frame(connection, payload);
}

void RecoverDriver::on_subscriber_frame(LoadConnection& connection, std::string_view text) {
  if (awaiting_[connection.index()] != Awaiting::kYes) {
    count_error(ErrorKind::kMismatch, std::string("a frame nobody asked for: ") + std::string(shown(text)));
    return;
  }
  StreamReply reply;
  const ReplyKind kind = parse_stream_reply(text, &reply);
  if (kind == ReplyKind::kOther && reply.type != "error") {
    // A live message, say: nobody publishes during a round.
    count_error(ErrorKind::kMismatch, std::string("during a round: ") + std::string(shown(text)));
    return;
  }
  if (kind != ReplyKind::kReply || reply.id != round_) {
    count_error(ErrorKind::kMismatch, std::string("instead of the reply: ") + std::string(shown(text)));
  } else if (phase_ == Phase::kStorm) {
    const std::string problem = check_recovery(reply, epoch_, since_, top_);
    if (problem.empty()) {
      ++result_.recoveries;
      result_.recovered_publications += reply.publications;
      bump(live().messages, reply.publications);
    } else {
      count_error(ErrorKind::kMismatch, "recovery: " + problem);
    }
  }
  answered(connection, Answer::kReply);
}

void RecoverDriver::answered(LoadConnection& connection, Answer answer) {
  awaiting_[connection.index()] = Awaiting::kNo;
  if (answer == Answer::kReply) live().round_last_reply_ns.store(base::monotonic_ns(), std::memory_order_relaxed);
  if (--pending_ == 0 && !sending_) finish_round();
}

void RecoverDriver::scenario_done(LoadConnection& connection) {
  if (is_publisher(connection)) {
    if (phase_ == Phase::kSetup) fail_setup("the publisher's connection closed during the setup");
    return;
  }
  if (awaiting_[connection.index()] == Awaiting::kYes) answered(connection, Answer::kClosed);
}

void RecoverDriver::finish_round() {
  phase_ = Phase::kIdle;
  live().round_done.store(round_, std::memory_order_release);
}

}  // namespace switchboard::bench
