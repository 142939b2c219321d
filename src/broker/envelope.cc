#include "broker/envelope.h"

#include <charconv>

namespace switchboard::broker {
namespace {

bool parse_number(std::string_view text, std::uint64_t* value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

// A node id: one or more characters, none a space or a newline.
bool is_node(std::string_view node) { return !node.empty() && node.find_first_of(" \n") == std::string_view::npos; }

}  // namespace

std::string format_publication(std::string_view node, std::uint64_t exclude, std::string_view data) {
  std::string out(node);
  out += ' ';
  out += std::to_string(exclude);
  out += '\n';
  out += data;
  return out;
}

std::string format_event(std::string_view node, std::string_view frame) {
  std::string out = "e ";
  out += node;
  out += '\n';
  out += frame;
  return out;
}

bool parse_channel_envelope(std::string_view payload, ChannelEnvelope* out) {
  const std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos) return false;
  const std::string_view head = payload.substr(0, newline);
  *out = ChannelEnvelope{};
  out->body = payload.substr(newline + 1);
  if (head.starts_with("e ")) {
    out->is_event = true;
    out->node = head.substr(2);
    return is_node(out->node);
  }
  const std::size_t first = head.find(' ');
  if (first == std::string_view::npos) return false;
  const std::size_t second = head.find(' ', first + 1);
  if (second == std::string_view::npos) return false;
  out->node = head.substr(first + 1, second - first - 1);
  std::string_view number = head.substr(0, first);
  if (const std::size_t colon = number.find(':'); colon != std::string_view::npos) {
    out->epoch = number.substr(colon + 1);
    number = number.substr(0, colon);
    if (out->epoch.empty()) return false;
  }
  return parse_number(number, &out->offset) && out->offset > 0 &&
         parse_number(head.substr(second + 1), &out->exclude) && is_node(out->node);
}

std::string format_user_envelope(std::string_view node, const UserMessage& message) {
  std::string out(node);
  out += message.kind == UserMessageKind::kDirect ? " m " : " d ";
  out += message.elsewhere_only ? "1\n" : "0\n";
  out += message.text;
  return out;
}

bool parse_user_envelope(std::string_view payload, UserEnvelope* out) {
  const std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos || newline < 5) return false;
  const std::string_view head = payload.substr(0, newline);
  const char kind = head[newline - 3];
  const char elsewhere = head[newline - 1];
  if (head[newline - 4] != ' ' || head[newline - 2] != ' ' || (kind != 'm' && kind != 'd') ||
      (elsewhere != '0' && elsewhere != '1')) {
    return false;
  }
  out->node = head.substr(0, newline - 4);
  out->kind = kind == 'm' ? UserMessageKind::kDirect : UserMessageKind::kDisconnect;
  out->elsewhere_only = elsewhere == '1';
  out->text = payload.substr(newline + 1);
  return is_node(out->node);
}

std::string format_question(std::uint64_t id, std::string_view asker, std::string_view question) {
  std::string out = std::to_string(id);
  out += ' ';
  out += asker;
  out += '\n';
  out += question;
  return out;
}

bool parse_question(std::string_view payload, QuestionEnvelope* out) {
  const std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos) return false;
  const std::string_view head = payload.substr(0, newline);
  const std::size_t space = head.find(' ');
  if (space == std::string_view::npos) return false;
  out->asker = head.substr(space + 1);
  out->text = payload.substr(newline + 1);
  return parse_number(head.substr(0, space), &out->id) && is_node(out->asker);
}

std::string format_answer(std::uint64_t id, std::string_view answer) {
  std::string out = std::to_string(id);
  out += '\n';
  out += answer;
  return out;
}

bool parse_answer(std::string_view payload, std::uint64_t* id, std::string_view* answer) {
  const std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos || !parse_number(payload.substr(0, newline), id)) return false;
  *answer = payload.substr(newline + 1);
  return true;
}

}  // namespace switchboard::broker
