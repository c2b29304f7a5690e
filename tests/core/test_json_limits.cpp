// The nesting bound on JSON from outside: exact at the limit, blind to
// brackets inside strings, and linear (a 100,000-deep text is refused at once).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "core/json_limits.hpp"

using namespace rmm;

namespace {

std::string arrays(int depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); }

std::string objects(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s += std::string(depth, '}');
  return s;
}

// The message check_json_depth gives, or "" when it accepts.
std::string refusal(const std::string& text, const std::string& what = "the body") {
  try {
    check_json_depth(text, what);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    return e.what();
  }
}

}  // namespace

TEST(JsonLimits, ExactlyTheLimitIsAcceptedOneMoreIsRefused) {
  ASSERT_EQ(kMaxJsonDepth, 64);
  EXPECT_EQ(refusal(arrays(64)), "");
  EXPECT_EQ(refusal(objects(64)), "");
  EXPECT_EQ(refusal(arrays(65)), "the body is nested deeper than 64 levels");
  EXPECT_EQ(refusal(objects(65), "the message"), "the message is nested deeper than 64 levels");
  // Mixed arrays and objects count alike; siblings do not add up.
  EXPECT_EQ(refusal("{\"a\":[" + objects(62) + "," + arrays(62) + "]}"), "");
  EXPECT_EQ(refusal("{\"a\":[" + objects(62) + "," + arrays(63) + "]}"),
            "the body is nested deeper than 64 levels");
  std::string wide = "[";
  for (int i = 0; i < 10000; ++i) wide += arrays(63) + ",";
  wide += "1]";
  EXPECT_EQ(refusal(wide), "");  // 10,000 elements 64 deep (with the outer list) each
  EXPECT_EQ(refusal("[" + std::string(10000, '1') + "]"), "");
  // A custom bound.
  EXPECT_NO_THROW(check_json_depth(arrays(3), "x", 3));
  EXPECT_THROW(check_json_depth(arrays(4), "x", 3), Error);
}

TEST(JsonLimits, BracketsInsideStringsDoNotCount) {
  const std::string brackets(1000, '[');
  EXPECT_EQ(refusal("{\"k\":\"" + brackets + "\"}"), "");
  EXPECT_EQ(refusal("{\"" + std::string(1000, '{') + "\":1}"), "");  // in a key
  // An escaped quote does not end the string; the brackets after it are still text.
  EXPECT_EQ(refusal(R"({"k":"say \")" + brackets + R"("})"), "");
  // An escaped backslash does end before the quote: what follows is structure again.
  EXPECT_EQ(refusal(R"(["a\\", )" + arrays(64) + "]"), "the body is nested deeper than 64 levels");
  EXPECT_EQ(refusal(R"(["a\\", )" + arrays(63) + "]"), "");
  // \u escapes are ordinary string bytes.
  EXPECT_EQ(refusal(R"(["\u005b\u007b)" + brackets + R"("])"), "");
}

TEST(JsonLimits, MalformedTextIsLeftToTheParser) {
  // Unbalanced closers never make the depth negative (and so never hide what follows).
  EXPECT_EQ(refusal(std::string(1000, ']') + arrays(65)), "the body is nested deeper than 64 levels");
  EXPECT_EQ(refusal("not json"), "");
  EXPECT_EQ(refusal(""), "");
  EXPECT_EQ(refusal("\"unterminated " + std::string(100, '[')), "");
}

TEST(JsonLimits, HundredThousandLevelsAreRefusedFast) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(refusal(objects(100000)), "the body is nested deeper than 64 levels");
  EXPECT_EQ(refusal(arrays(100000)), "the body is nested deeper than 64 levels");
  // Refused at the 65th bracket: the scan never walks the rest, let alone recurses.
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(ms, 100);
  // The whole text is scanned linearly when it is shallow: 10 MB of strings and numbers.
  std::string big = "[";
  for (int i = 0; i < 200000; ++i) big += "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\",";
  big += "1]";
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(refusal(big), "");
  EXPECT_LT(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count(),
      1000);
}

TEST(JsonLimits, ParseBoundedParsesOrRefuses) {
  const auto j = parse_json_bounded<nlohmann::json>(objects(64), "the body");
  EXPECT_TRUE(j.is_object());
  EXPECT_THROW(parse_json_bounded<nlohmann::json>(objects(65), "the body"), Error);
  // Syntax errors stay nlohmann's: an exception, or a discarded value when asked.
  EXPECT_THROW(parse_json_bounded<nlohmann::json>("{", "the body"), nlohmann::json::parse_error);
  EXPECT_TRUE(parse_json_bounded<nlohmann::json>("{", "the body", false).is_discarded());
  // Too deep wins over malformed: the depth is checked before the parser runs.
  EXPECT_THROW(parse_json_bounded<nlohmann::json>(arrays(100000) + "x", "the body", false), Error);
}
