// The recover scenario: a reconnect storm against a Switchboard hub (protocol
// v1, docs/PROTOCOL.md "Streams"). One channel whose namespace keeps a
// stream; one publisher (thread 0, connection 0) and C subscribers, all
// connected before anything is sent. The runner (recover_rounds.h) drives
// rounds, each posted to every thread and finished when the thread's last
// answer has come:
//
//   setup      the publisher publishes K messages (-p in flight) and keeps
//              the stream's epoch and last offset (top) from the replies
//   storm      every subscriber sends subscribe with recover:true and
//              since {top - K, epoch} at once; each reply must say
//              recovered:true with exactly publications top-K+1 .. top
//   unsubscribe  every subscriber leaves the channel, for the next storm
//
// A storm's time runs from its first subscribe sent to its last reply
// received, over all threads. A reply that is not a whole recovery, an
// error reply, or any other frame counts as an error (kMismatch, with what
// differed); a subscriber that closes mid-round counts as its close error.
//
// The data of every publication is a JSON string: 16 hex digits (its
// sequence number), then 'x' up to the payload size.
//
// Threading: see ThreadDriver. The round methods run on the loop thread,
// posted by the runner; setup() is read by the runner once round_done
// (acquire) shows the setup round finished.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/thread_driver.h"

namespace switchboard::bench {

inline constexpr std::size_t kRecoverPayloadMin = 16;
inline constexpr std::size_t kRecoverPayloadMax = 1u << 20;

struct RecoverSettings {
  std::string channel;
  std::uint32_t publications = 100;  // K: what each subscriber recovers
  std::uint32_t payload_size = 32;
  std::uint32_t inflight = 64;  // the publisher's window in the setup
};

// The stream as the setup left it.
struct RecoverSetup {
  std::string epoch;  // as the server wrote it between the quotes
  std::uint64_t top = 0;
  std::string problem;  // why the setup failed (empty: it did not)
};

// The publish command for publication `sequence` of the setup.
void write_recover_publish(std::string& out, std::uint64_t id, std::string_view channel, std::uint64_t sequence,
                           std::uint32_t payload_size);

// The subscribe command of a storm: recover everything after `since`.
std::string make_recover_subscribe(std::uint64_t id, std::string_view channel, std::string_view epoch,
                                   std::uint64_t since);

// The largest frame a recovery of `publications` of `payload_size` bytes
// takes, with room for the envelope and each publication's offset.
std::uint64_t recovery_frame_size(std::uint32_t publications, std::uint32_t payload_size);

class RecoverDriver final : public ThreadDriver {
 public:
  enum class Publisher : std::uint8_t { kHere, kElsewhere };

  RecoverDriver(const ThreadPlan& plan, const RecoverSettings& settings, Publisher publisher);

  // Rounds, numbered from 1 by the runner; each ends by storing its number
  // in live().round_done.
  void run_setup(std::uint64_t round);
  void run_storm(std::uint64_t round, const std::string& epoch, std::uint64_t since, std::uint64_t top);
  void run_unsubscribe(std::uint64_t round);

  // The publisher's thread only, after the setup round.
  const RecoverSetup& setup() const { return setup_; }

  void on_message(LoadConnection& connection, Opcode opcode, std::string_view payload) override;

 private:
  enum class Phase : std::uint8_t { kIdle, kSetup, kStorm, kUnsubscribe };
  enum class Awaiting : std::uint8_t { kNo, kYes };
  enum class Answer : std::uint8_t { kReply, kClosed };  // the reply came, or the connection closed first

  void scenario_done(LoadConnection& connection) override;
  bool is_publisher(const LoadConnection& connection) const;
  void publish(LoadConnection& connection);
  void on_publish_reply(std::string_view text);
  void fail_setup(std::string problem);
  void on_subscriber_frame(LoadConnection& connection, std::string_view text);
  // Sends `command` to every open subscriber and waits for their answers.
  void send_to_subscribers(std::uint64_t round, Phase phase, std::string_view command);
  void answered(LoadConnection& connection, Answer answer);
  void finish_round();

  RecoverSettings settings_;
  Publisher publisher_;
  Phase phase_ = Phase::kIdle;
  std::uint64_t round_ = 0;
  std::vector<Awaiting> awaiting_;  // per connection
  std::uint64_t pending_ = 0;       // subscribers not answered yet in this round
  bool sending_ = false;            // inside send_to_subscribers' loop
  // The storm's expectation.
  std::string epoch_;
  std::uint64_t since_ = 0;
  std::uint64_t top_ = 0;
  // The setup.
  RecoverSetup setup_;
  std::uint64_t next_sequence_ = 0;
  std::uint64_t publish_answers_ = 0;
  std::string json_;
  std::string frame_;
};

}  // namespace switchboard::bench
