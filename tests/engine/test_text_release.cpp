#include <gtest/gtest.h>

#include "engine/text_release.hpp"

using rmm::engine::TextRelease;

namespace {

// Feeds pieces and returns what each pushed piece released, joined per push.
std::vector<std::string> feed(TextRelease& tr, const std::vector<std::string>& pieces,
                              bool* stopped = nullptr) {
  std::vector<std::string> out;
  for (const auto& p : pieces) {
    auto r = tr.push(p);
    for (auto& t : r.texts) out.push_back(t);
    if (r.stopped) {
      if (stopped) *stopped = true;
      return out;
    }
  }
  for (auto& t : tr.flush()) out.push_back(t);
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x;
  return s;
}

}  // namespace

TEST(TextRelease, WithoutStopsEveryTokenIsReleasedAtOnce) {
  TextRelease tr({});
  auto r = tr.push("Hello");
  ASSERT_EQ(r.texts.size(), 1u);
  EXPECT_EQ(r.texts[0], "Hello");
  EXPECT_EQ(tr.held_tokens(), 0u);
}

TEST(TextRelease, StopStringAcrossTokensIsNeverEmittedInPart) {
  TextRelease tr({"</end>"});
  bool stopped = false;
  auto out = feed(tr, {"Hi", " there", "</", "en", "d> more"}, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(join(out), "Hi there");
  for (const auto& t : out) EXPECT_EQ(t.find('<'), std::string::npos);
}

TEST(TextRelease, HeldTextIsReleasedWhenTheStopIsRuledOut) {
  TextRelease tr({"STOP"});
  auto r1 = tr.push("ab ST");
  EXPECT_TRUE(r1.texts.empty());  // "ST" may start "STOP": the whole token waits
  auto r2 = tr.push("ART");
  ASSERT_EQ(r2.texts.size(), 2u);
  EXPECT_EQ(r2.texts[0] + r2.texts[1], "ab START");
  EXPECT_FALSE(r2.stopped);
}

TEST(TextRelease, StopInsideOneTokenCutsThatToken) {
  TextRelease tr({"\n\n"});
  bool stopped = false;
  auto out = feed(tr, {"line one", ".\n\nnext"}, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(join(out), "line one.");
}

TEST(TextRelease, EarliestOfSeveralStopsWins) {
  TextRelease tr({"world", "lo w"});
  bool stopped = false;
  auto out = feed(tr, {"hello world"}, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(join(out), "hel");
}

TEST(TextRelease, MultiByteCharacterSplitAcrossTokensGoesOutWhole) {
  TextRelease tr({});
  // U+20AC split over three tokens, then ASCII.
  auto a = tr.push("\xE2");
  auto b = tr.push("\x82");
  EXPECT_TRUE(a.texts.empty());
  EXPECT_TRUE(b.texts.empty());
  auto c = tr.push("\xAC!");
  ASSERT_EQ(c.texts.size(), 3u);  // one text per token, each valid UTF-8
  EXPECT_EQ(c.texts[0], "");
  EXPECT_EQ(c.texts[1], "");
  EXPECT_EQ(c.texts[2], "\xE2\x82\xAC!");
}

TEST(TextRelease, TokenEndingMidCharacterGivesItsCharacterToTheNextToken) {
  TextRelease tr({"zzz"});  // a stop string makes both tokens wait together
  auto a = tr.push("a\xC3");
  EXPECT_TRUE(a.texts.empty());
  auto b = tr.push(
      "\xA9"
      "b");
  ASSERT_EQ(b.texts.size(), 2u);
  EXPECT_EQ(b.texts[0], "a");
  EXPECT_EQ(b.texts[1],
            "\xC3\xA9"
            "b");
}

TEST(TextRelease, FlushTurnsAnUnfinishedTailIntoReplacementCharacter) {
  TextRelease tr({});
  auto a = tr.push("ok\xE2\x82");
  EXPECT_TRUE(a.texts.empty());
  auto rest = tr.flush();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0], "ok\xEF\xBF\xBD");
}

TEST(TextRelease, InvalidBytesAreReplacedNotPassedThrough) {
  TextRelease tr({});
  auto r = tr.push(
      "a\xFF"
      "b");
  ASSERT_EQ(r.texts.size(), 1u);
  EXPECT_EQ(r.texts[0],
            "a\xEF\xBF\xBD"
            "b");
}
