// Codec throughput: frame parsing (masked binary frames, parsed and
// unmasked), masking and UTF-8 validation at 16 B, 1 KiB and 64 KiB payloads.
// Google Benchmark prints bytes_per_second; nothing here passes or fails.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>

#include "codec/frame_parser.h"
#include "codec/frame_writer.h"
#include "codec/mask.h"
#include "codec/utf8.h"

namespace switchboard::codec {
namespace {

constexpr MaskKey kKey = {0x37, 0xFA, 0x21, 0x3D};

struct CountingSink {
  std::size_t bytes = 0;
  Flow on_message(Opcode, std::string_view payload) {
    bytes += payload.size();
    return Flow::kContinue;
  }
  Flow on_ping(std::string_view) { return Flow::kContinue; }
  Flow on_pong(std::string_view) { return Flow::kContinue; }
  Flow on_close(CloseCode, std::string_view) { return Flow::kContinue; }
};

// At least 64 KiB of back-to-back frames per consume() call, as a loop-wide
// receive buffer would hold. Unmasking in place toggles the payload each
// round, which binary frames do not mind.
void BM_ParseMaskedBinary(benchmark::State& state) {
  const auto payload_size = static_cast<std::size_t>(state.range(0));
  const std::string frame = make_masked_frame(Opcode::kBinary, std::string(payload_size, 'p'), kKey);
  std::string buffer;
  while (buffer.size() < 64 * 1024) buffer += frame;
  FrameParser parser(Role::kServer, {});
  CountingSink sink;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.consume(std::span<char>(buffer.data(), buffer.size()), sink));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * buffer.size()));
  state.counters["frames/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * (buffer.size() / frame.size())), benchmark::Counter::kIsRate);
}

void BM_ApplyMask(benchmark::State& state) {
  std::string data(static_cast<std::size_t>(state.range(0)) + 1, 'm');
  for (auto _ : state) {
    // Offset by one byte: the unaligned case, as payloads follow headers.
    benchmark::DoNotOptimize(apply_mask(data.data() + 1, data.size() - 1, kKey, 1));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * (data.size() - 1)));
}

std::string ascii_text(std::size_t size) {
  std::string text;
  while (text.size() < size) text += "The quick brown fox jumps over the lazy dog. ";
  text.resize(size);
  return text;
}

// Latin, Greek, CJK and emoji: 1- to 4-byte sequences, cut at a boundary.
std::string mixed_text(std::size_t size) {
  const std::string pieces =
      "Gr\xC3\xBC\xC3\x9F"
      "e \xCE\xBA\xCF\x8C\xCF\x83\xCE\xBC\xCE\xB5 "
      "\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 ";
  std::string text;
  while (text.size() < size) text += pieces;
  std::size_t cut = size;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text;
}

void BM_IsValidUtf8Ascii(benchmark::State& state) {
  const std::string text = ascii_text(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_IsValidUtf8Mixed(benchmark::State& state) {
  const std::string text = mixed_text(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(is_valid_utf8(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_Utf8ValidatorFeedAscii(benchmark::State& state) {
  const std::string text = ascii_text(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    Utf8Validator validator;
    benchmark::DoNotOptimize(validator.feed(text));
    benchmark::DoNotOptimize(validator.complete());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_Utf8ValidatorFeedMixed(benchmark::State& state) {
  const std::string text = mixed_text(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    Utf8Validator validator;
    benchmark::DoNotOptimize(validator.feed(text));
    benchmark::DoNotOptimize(validator.complete());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void payload_sizes(benchmark::internal::Benchmark* benchmark) { benchmark->Arg(16)->Arg(32)->Arg(63)->Arg(128)->Arg(1024)->Arg(64 * 1024); }

BENCHMARK(BM_ParseMaskedBinary)->Apply(payload_sizes);
BENCHMARK(BM_ApplyMask)->Apply(payload_sizes);
BENCHMARK(BM_IsValidUtf8Ascii)->Apply(payload_sizes);
BENCHMARK(BM_IsValidUtf8Mixed)->Apply(payload_sizes);
BENCHMARK(BM_Utf8ValidatorFeedAscii)->Apply(payload_sizes);
BENCHMARK(BM_Utf8ValidatorFeedMixed)->Apply(payload_sizes);

}  // namespace
}  // namespace switchboard::codec
