// Keys, hashes and name patterns.
#include <gtest/gtest.h>

#include <set>

#include "access/api_key.hpp"
#include "access/principal.hpp"
#include "core/error.hpp"

namespace rmm::access {
namespace {

TEST(ApiKey, KeysAreLongRandomAndRecognisable) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string k = generate_key();
    ASSERT_EQ(k.rfind("rmm-", 0), 0u);
    ASSERT_EQ(k.size(), 4u + 43u);  // 43 base62 digits: log2(62^43) > 256 bits
    for (char c : k.substr(4)) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << k;
    seen.insert(k);
  }
  EXPECT_EQ(seen.size(), 200u);
  // Every base62 digit turns up at each position over many keys (a uniform source, not a counter).
  std::set<char> first;
  for (const auto& k : seen) first.insert(k[4]);
  EXPECT_GT(first.size(), 40u);
}

TEST(ApiKey, TheHashIsSha256InHex) {
  // FIPS 180-4's example digest of "abc".
  EXPECT_EQ(hash_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(key_prefix("rmm-AbCdEfGh"), "rmm-AbCd");
  EXPECT_EQ(key_prefix("ab"), "ab");
}

TEST(ApiKey, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(ApiKey, Scopes) {
  EXPECT_EQ(parse_scope("admin"), Scope::Admin);
  EXPECT_EQ(parse_scope("generate"), Scope::Generate);
  EXPECT_EQ(parse_scope("read"), Scope::Read);
  EXPECT_FALSE(parse_scope("Admin"));
  Principal p;
  p.scope = Scope::Generate;
  EXPECT_TRUE(p.allows(Scope::Read));
  EXPECT_TRUE(p.allows(Scope::Generate));
  EXPECT_FALSE(p.allows(Scope::Admin));
}

TEST(ApiKey, GlobPatterns) {
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("qwen2.5-*", "qwen2.5-0.5b-instruct:q4_k_m"));
  EXPECT_TRUE(glob_match("QWEN*", "qwen2"));
  EXPECT_TRUE(glob_match("*:q4_k_m", "llama:q4_k_m"));
  EXPECT_TRUE(glob_match("l?ama", "llama"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
  EXPECT_FALSE(glob_match("qwen*", "llama"));
  EXPECT_FALSE(glob_match("l?ama", "lama"));
  EXPECT_FALSE(glob_match("", "x"));
  // Hostile patterns stay fast (no exponential backtracking).
  EXPECT_FALSE(glob_match(std::string(100, '*') + "b", std::string(10000, 'a')));
}

TEST(ApiKey, ModelPatternsMatchAnyName) {
  Principal p;
  EXPECT_TRUE(p.may_use_model({"x"}));  // no patterns: every model
  p.models = {"tinystories-*", "phi3"};
  EXPECT_TRUE(p.may_use_model({"stem", "tinystories-656k:q8_0"}));
  EXPECT_TRUE(p.may_use_model({"phi3"}));
  EXPECT_FALSE(p.may_use_model({"stories260k", "stories260k:f32"}));
  EXPECT_FALSE(p.may_use_model({""}));
}

TEST(ApiKey, Names) {
  EXPECT_NO_THROW(check_key_name("ci-bot_1.prod"));
  EXPECT_THROW(check_key_name(""), Error);
  EXPECT_THROW(check_key_name("has space"), Error);
  EXPECT_THROW(check_key_name(std::string(65, 'a')), Error);
  EXPECT_THROW(check_key_name("ü"), Error);
}

}  // namespace
}  // namespace rmm::access
