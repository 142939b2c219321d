// libFuzzer target: what a node reads from Redis pub/sub (broker/envelope.h)
// and the disconnect order inside a user envelope (hub/disconnect_order.h).
// Any payload must either be refused or parse into fields that format back
// to an envelope that parses to the same fields (a message passed between
// nodes means one thing).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "broker/envelope.h"
#include "hub/disconnect_order.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace switchboard::broker;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);

  ChannelEnvelope channel;
  if (parse_channel_envelope(payload, &channel)) {
    const std::string again = channel.is_event ? format_event(channel.node, channel.body)
                                               : std::to_string(channel.offset) + " " +
                                                     format_publication(channel.node, channel.exclude, channel.body);
    ChannelEnvelope back;
    check(parse_channel_envelope(again, &back));
    check(back.is_event == channel.is_event && back.offset == channel.offset && back.node == channel.node &&
          back.exclude == channel.exclude && back.body == channel.body);
  }

  UserEnvelope user;
  if (parse_user_envelope(payload, &user)) {
    const std::string again =
        format_user_envelope(user.node, UserMessage{"u", user.kind, user.text, user.elsewhere_only});
    UserEnvelope back;
    check(parse_user_envelope(again, &back));
    check(back.node == user.node && back.kind == user.kind && back.elsewhere_only == user.elsewhere_only &&
          back.text == user.text);
  }

  QuestionEnvelope question;
  if (parse_question(payload, &question)) {
    const std::string again = format_question(question.id, question.asker, question.text);
    QuestionEnvelope back;
    check(parse_question(again, &back));
    check(back.id == question.id && back.asker == question.asker && back.text == question.text);
  }

  std::uint64_t id = 0;
  std::string_view answer;
  if (parse_answer(payload, &id, &answer)) {
    const std::string again = format_answer(id, answer);
    std::uint64_t back_id = 0;
    std::string_view back_answer;
    check(parse_answer(again, &back_id, &back_answer) && back_id == id && back_answer == answer);
  }

  switchboard::hub::DisconnectOrder order;
  if (switchboard::hub::parse_disconnect_order(payload, &order)) {
    check(order.code >= 1000 && order.code <= 4999);
    switchboard::hub::DisconnectOrder back;
    check(switchboard::hub::parse_disconnect_order(switchboard::hub::format_disconnect_order(order), &back));
    check(back.code == order.code && back.reconnect == order.reconnect && back.reason == order.reason);
  }
  return 0;
}
