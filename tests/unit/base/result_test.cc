// base::Result: a value or an error line, never both, never neither.
#include "base/result.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return Error(std::to_string(n) + " is odd");
  return n / 2;
}

Result<void> check_even(int n) {
  if (n % 2 != 0) return Error("odd");
  return {};
}

TEST(Result, HoldsAValue) {
  const Result<int> result = half(8);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(static_cast<bool>(result));
  EXPECT_EQ(*result, 4);
  EXPECT_EQ(result.value(), 4);
  EXPECT_EQ(result.value_or(-1), 4);
}

TEST(Result, HoldsAnError) {
  const Result<int> result = half(7);
  ASSERT_FALSE(result.ok());
  EXPECT_FALSE(static_cast<bool>(result));
  EXPECT_EQ(result.error(), "7 is odd");
  EXPECT_EQ(result.value_or(-1), -1);
}

TEST(Result, AStringValueIsNotAnError) {
  const Result<std::string> value = std::string("fine");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "fine");
  const Result<std::string> empty = std::string();
  EXPECT_TRUE(empty.ok());  // "" is a value here, not success-by-convention
  const Result<std::string> error = Error("broken");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error(), "broken");
}

TEST(Result, ConvertsFromWhatBuildsTheValue) {
  const Result<std::string> from_literal = "text";
  EXPECT_EQ(*from_literal, "text");
  const Result<std::vector<int>> from_list = std::vector<int>{1, 2};
  EXPECT_EQ(from_list->size(), 2u);
}

TEST(Result, MovesOutAMoveOnlyValue) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(5);
  ASSERT_TRUE(result.ok());
  std::unique_ptr<int> taken = *std::move(result);
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);
}

TEST(Result, ArrowReachesMembers) {
  struct Point {
    int x;
    int y;
  };
  Result<Point> result = Point{1, 2};
  result->x = 3;
  EXPECT_EQ(result->x + result->y, 5);
}

TEST(Result, VoidIsSuccessOrAnError) {
  const Result<void> ok = check_even(2);
  EXPECT_TRUE(ok.ok());
  const Result<void> failed = check_even(3);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), "odd");
}

TEST(Result, ErrorPassesOnToAnotherResultType) {
  const auto quarter = [](int n) -> Result<int> {
    const Result<int> first = half(n);
    if (!first) return Error("quarter: " + first.error());
    return half(*first);
  };
  EXPECT_EQ(*quarter(8), 2);
  EXPECT_EQ(quarter(6).error(), "3 is odd");
  EXPECT_EQ(quarter(5).error(), "quarter: 5 is odd");
}

TEST(ResultDeathTest, ValueOfAnErrorAborts) {
  const Result<int> result = half(1);
  EXPECT_DEATH((void)*result, "");
}

TEST(ResultDeathTest, ErrorOfAValueAborts) {
  const Result<int> result = half(2);
  EXPECT_DEATH((void)result.error(), "");
  const Result<void> ok;
  EXPECT_DEATH((void)ok.error(), "");
}

}  // namespace
}  // namespace switchboard::base
