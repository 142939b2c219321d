// gtest checks on a base::Result for the settings tests: that it succeeded
// (else the failure shows its error), or that it failed with an error that
// is, starts with or mentions a given text (else the failure shows what it
// got instead).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "base/result.h"

namespace switchboard::cli {

template <typename T>
::testing::AssertionResult Succeeded(const base::Result<T>& result) {
  if (result.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "failed: " << result.error();
}

enum class ErrorMatch : std::uint8_t { kExactly, kStartsWith, kMentions };

template <typename T>
::testing::AssertionResult FailedWith(const base::Result<T>& result, std::string_view expected,
                                      ErrorMatch match = ErrorMatch::kExactly) {
  if (result.ok()) return ::testing::AssertionFailure() << "succeeded; expected the error \"" << expected << "\"";
  const std::string& error = result.error();
  const bool matches = match == ErrorMatch::kExactly      ? error == expected
                       : match == ErrorMatch::kStartsWith ? error.starts_with(expected)
                                                          : error.find(expected) != std::string::npos;
  if (matches) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "error \"" << error << "\"; expected one that "
                                       << (match == ErrorMatch::kExactly      ? "is"
                                           : match == ErrorMatch::kStartsWith ? "starts with"
                                                                              : "mentions")
                                       << " \"" << expected << "\"";
}

}  // namespace switchboard::cli
