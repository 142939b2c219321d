#include "auth/claims_parser.h"

#include <gtest/gtest.h>

namespace switchboard::auth {
namespace {

VerifyError parse(std::string_view json) {
  Claims claims;
  return parse_claims(json, &claims);
}

TEST(ClaimsParser, ReadsEveryClaim) {
  Claims claims;
  ASSERT_EQ(parse_claims(R"({"sub":"alice","exp":1700000100,"nbf":1699999000,"iat":1699999900,"iss":"https://id",
                             "aud":"switchboard","channels":["news","chat:*"],"channel":"chat:1",
                             "info": { "name" : "Alice", "tags" : [ 1, 2 ] },"other":{"ignored":true}})",
                         &claims),
            VerifyError::kNone);
  EXPECT_EQ(claims.subject, "alice");
  EXPECT_EQ(claims.expires_at, 1700000100);
  EXPECT_EQ(claims.not_before, 1699999000);
  EXPECT_EQ(claims.issued_at, 1699999900);
  EXPECT_EQ(claims.issuer, "https://id");
  EXPECT_EQ(claims.audience, std::vector<std::string>{"switchboard"});
  ASSERT_TRUE(claims.channels);
  EXPECT_EQ(*claims.channels, (std::vector<std::string>{"news", "chat:*"}));
  EXPECT_EQ(claims.channel, "chat:1");
  EXPECT_EQ(claims.info_json, R"({"name":"Alice","tags":[1,2]})");
  // Present but empty is still present: it makes a subscription token.
  ASSERT_EQ(parse_claims(R"({"channel":""})", &claims), VerifyError::kNone);
  EXPECT_EQ(claims.channel, "");
}

TEST(ClaimsParser, AbsentClaimsAreEmpty) {
  Claims claims;
  ASSERT_EQ(parse_claims("{}", &claims), VerifyError::kNone);
  EXPECT_EQ(claims.subject, "");
  EXPECT_FALSE(claims.expires_at);
  EXPECT_FALSE(claims.not_before);
  EXPECT_FALSE(claims.issued_at);
  EXPECT_TRUE(claims.audience.empty());
  EXPECT_FALSE(claims.channels);
  EXPECT_FALSE(claims.channel);
  EXPECT_EQ(claims.info_json, "");
}

TEST(ClaimsParser, AudienceAsArray) {
  Claims claims;
  ASSERT_EQ(parse_claims(R"({"aud":["a","b"]})", &claims), VerifyError::kNone);
  EXPECT_EQ(claims.audience, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parse(R"({"aud":["a",1]})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"aud":1})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"aud":{"a":"b"}})"), VerifyError::kBadClaims);
}

TEST(ClaimsParser, EmptyChannelsGrantsNone) {
  Claims claims;
  ASSERT_EQ(parse_claims(R"({"channels":[]})", &claims), VerifyError::kNone);
  ASSERT_TRUE(claims.channels);
  EXPECT_TRUE(claims.channels->empty());
}

TEST(ClaimsParser, InfoMayBeAnyValue) {
  Claims claims;
  ASSERT_EQ(parse_claims(R"({"info":"text"})", &claims), VerifyError::kNone);
  EXPECT_EQ(claims.info_json, R"("text")");
  ASSERT_EQ(parse_claims(R"({"info":null})", &claims), VerifyError::kNone);
  EXPECT_EQ(claims.info_json, "null");
  ASSERT_EQ(parse_claims(R"({"info":[ 1 , "a\"b" ]})", &claims), VerifyError::kNone);
  EXPECT_EQ(claims.info_json, R"([1,"a\"b"])");
}

TEST(ClaimsParser, WrongTypesAreBadClaims) {
  EXPECT_EQ(parse(R"({"sub":42})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"sub":null})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"sub":["alice"]})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"iss":1})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"channel":true})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"channels":"news"})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"channels":["news",null]})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"exp":"1700000000"})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"nbf":true})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"iat":null})"), VerifyError::kBadClaims);
}

TEST(ClaimsParser, NumericDates) {
  Claims claims;
  ASSERT_EQ(parse_claims(R"({"exp":1700000000.9,"nbf":-5,"iat":0})", &claims), VerifyError::kNone);
  EXPECT_EQ(claims.expires_at, 1700000000);  // truncated
  EXPECT_EQ(claims.not_before, -5);
  EXPECT_EQ(claims.issued_at, 0);
  ASSERT_EQ(parse_claims(R"({"exp":9223372036854775807})", &claims), VerifyError::kNone);
  EXPECT_EQ(claims.expires_at, INT64_MAX);
  ASSERT_EQ(parse_claims(R"({"exp":1.7e9})", &claims), VerifyError::kNone);
  EXPECT_EQ(claims.expires_at, 1700000000);
  EXPECT_EQ(parse(R"({"exp":9223372036854775808})"), VerifyError::kBadClaims);  // above int64
  EXPECT_EQ(parse(R"({"exp":1e300})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"exp":-1.5})"), VerifyError::kBadClaims);
}

TEST(ClaimsParser, NotAnObjectIsMalformed) {
  EXPECT_EQ(parse("[]"), VerifyError::kMalformed);
  EXPECT_EQ(parse("\"sub\""), VerifyError::kMalformed);
  EXPECT_EQ(parse("{"), VerifyError::kMalformed);
  EXPECT_EQ(parse(""), VerifyError::kMalformed);
}

TEST(ClaimsParser, DuplicateClaimsAreMalformed) {
  EXPECT_EQ(parse(R"({"sub":"alice","sub":"admin"})"), VerifyError::kMalformed);
  EXPECT_EQ(parse(R"({"exp":1,"exp":99999999999})"), VerifyError::kMalformed);
}

TEST(ClaimsParser, LeavesTheOutputAloneOnFailure) {
  Claims claims;
  claims.subject = "kept";
  EXPECT_EQ(parse_claims(R"({"sub":"other","exp":"soon"})", &claims), VerifyError::kBadClaims);
  EXPECT_EQ(claims.subject, "kept");
}

TEST(ClaimsParser, SendToIsAListOfUsers) {
  Claims claims;
  ASSERT_EQ(parse_claims(R"({"sub":"alice"})", &claims), VerifyError::kNone);
  EXPECT_FALSE(claims.send_to);
  ASSERT_EQ(parse_claims(R"({"sub":"alice","send_to":["bob","carol"]})", &claims), VerifyError::kNone);
  ASSERT_TRUE(claims.send_to);
  EXPECT_EQ(*claims.send_to, (std::vector<std::string>{"bob", "carol"}));
  ASSERT_EQ(parse_claims(R"({"send_to":[]})", &claims), VerifyError::kNone);
  ASSERT_TRUE(claims.send_to);
  EXPECT_TRUE(claims.send_to->empty());
  EXPECT_EQ(parse(R"({"send_to":"bob"})"), VerifyError::kBadClaims);
  EXPECT_EQ(parse(R"({"send_to":["bob",1]})"), VerifyError::kBadClaims);
}

}  // namespace
}  // namespace switchboard::auth
