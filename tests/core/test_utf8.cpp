#include <gtest/gtest.h>

#include "core/utf8.hpp"

using namespace rmm::utf8;

TEST(Utf8, CompletePrefixHoldsBackUnfinishedCharacters) {
  const std::string euro = "\xE2\x82\xAC";  // U+20AC, 3 bytes
  EXPECT_EQ(complete_prefix_length("ab"), 2u);
  EXPECT_EQ(complete_prefix_length("ab" + euro), 5u);
  EXPECT_EQ(complete_prefix_length("ab" + euro.substr(0, 1)), 2u);
  EXPECT_EQ(complete_prefix_length("ab" + euro.substr(0, 2)), 2u);
  const std::string emoji = "\xF0\x9F\x98\x80";  // U+1F600, 4 bytes
  EXPECT_EQ(complete_prefix_length(emoji.substr(0, 3)), 0u);
  EXPECT_EQ(complete_prefix_length(emoji), 4u);
  // Invalid bytes never hold the stream back.
  EXPECT_EQ(complete_prefix_length("a\xFF"), 2u);
  EXPECT_EQ(complete_prefix_length("\x80\x80\x80\x80\x80"), 5u);
}

TEST(Utf8, ValidityFollowsTheStandard) {
  EXPECT_TRUE(is_valid(""));
  EXPECT_TRUE(is_valid("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid("\xE2\x82"));          // cut short
  EXPECT_FALSE(is_valid("\x80"));              // lone continuation
}

TEST(Utf8, SanitizeReplacesEachBadRunWithOneReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(sanitize("abc"), "abc");
  EXPECT_EQ(sanitize("a\xFF"
                     "b"),
            "a" + r + "b");
  EXPECT_EQ(sanitize("a\xE2\x82"), "a" + r);
  EXPECT_EQ(sanitize("\xE2\x82\xAC"), "\xE2\x82\xAC");
  EXPECT_TRUE(is_valid(sanitize("\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80")));
}
