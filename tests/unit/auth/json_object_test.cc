#include "auth/json_object.h"

#include <gtest/gtest.h>

namespace switchboard::auth {
namespace {

bool parses(std::string_view json) {
  simdjson::dom::object object;
  return parse_unique_object(json, &object);
}

TEST(JsonObject, AcceptsAnObject) {
  simdjson::dom::object object;
  ASSERT_TRUE(parse_unique_object(R"({"a":1,"b":{"a":2}})", &object));
  EXPECT_EQ(object.size(), 2u);
  EXPECT_TRUE(parses("{}"));
}

TEST(JsonObject, RefusesOtherRoots) {
  EXPECT_FALSE(parses("[]"));
  EXPECT_FALSE(parses("\"x\""));
  EXPECT_FALSE(parses("1"));
  EXPECT_FALSE(parses("null"));
  EXPECT_FALSE(parses(""));
}

TEST(JsonObject, RefusesInvalidJson) {
  EXPECT_FALSE(parses("{"));
  EXPECT_FALSE(parses(R"({"a":1,})"));
  EXPECT_FALSE(parses(R"({"a":1} x)"));
  EXPECT_FALSE(parses("{\"a\":\"\xff\"}"));  // not UTF-8
}

// RFC 7515 §5.2 / RFC 7519 §4: duplicates refused, also when spelled with
// an escape.
TEST(JsonObject, RefusesDuplicateMembers) {
  EXPECT_FALSE(parses(R"({"alg":"HS256","alg":"none"})"));
  EXPECT_FALSE(parses(R"({"alg":"HS256","\u0061lg":"none"})"));
  EXPECT_TRUE(parses(R"({"alg":"HS256","x":{"alg":1}})"));
}

}  // namespace
}  // namespace switchboard::auth
