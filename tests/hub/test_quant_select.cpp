// Quantization names, split sets, mmproj choice and name validation: no network.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "error_text.hpp"
#include "models/hub/names.hpp"
#include "models/hub/quant_select.hpp"

using namespace rmm;
using namespace rmm::hub;

using rmm::test::error_of;

namespace {

RepoFile file(const std::string& path, uint64_t size = 10) {
  return RepoFile{path, size, std::string(64, 'a'), ""};
}

}  // namespace

TEST(QuantNames, ParsedFromFileNames) {
  EXPECT_EQ(parse_quant("Llama-3.2-1B-Instruct-Q4_K_M.gguf"), "Q4_K_M");
  EXPECT_EQ(parse_quant("qwen2.5-0.5b-instruct-q8_0.gguf"), "Q8_0");
  EXPECT_EQ(parse_quant("model.IQ4_XS.gguf"), "IQ4_XS");
  EXPECT_EQ(parse_quant("gemma-2b-it-IQ2_XXS.gguf"), "IQ2_XXS");
  EXPECT_EQ(parse_quant("phi-3-mini-4k-instruct-fp16.gguf"), std::nullopt);  // "fp16" is no ggml type name
  EXPECT_EQ(parse_quant("phi-3-mini-f16.gguf"), "F16");
  EXPECT_EQ(parse_quant("model-BF16-00001-of-00002.gguf"), "BF16");
  EXPECT_EQ(parse_quant("Qwen3-30B-A3B-UD-Q4_K_XL.gguf"), "Q4_K_XL");
  EXPECT_EQ(parse_quant("tiny-Q6_K.gguf"), "Q6_K");
  EXPECT_EQ(parse_quant("tiny-q5_k_s.gguf"), "Q5_K_S");
  EXPECT_EQ(parse_quant("model.gguf"), std::nullopt);
  EXPECT_EQ(parse_quant("Mistral-Q4_K_M_imatrix.gguf"), "Q4_K_M");
}

TEST(QuantNames, SplitSuffix) {
  auto s = parse_split("big-Q4_K_M-00002-of-00003.gguf");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 3);
  EXPECT_FALSE(parse_split("big-Q4_K_M.gguf"));
  EXPECT_FALSE(parse_split("big-00004-of-00003.gguf"));
}

TEST(QuantSelect, DefaultIsQ4KM) {
  const auto sel = select_files("a/b", {file("m-Q8_0.gguf"), file("m-Q4_K_M.gguf"), file("README.md")}, "");
  EXPECT_EQ(sel.quant, "Q4_K_M");
  ASSERT_EQ(sel.model.size(), 1u);
  EXPECT_EQ(sel.model[0].path, "m-Q4_K_M.gguf");
  EXPECT_FALSE(sel.mmproj);
}

TEST(QuantSelect, ExplicitQuantIsCaseInsensitive) {
  const auto sel = select_files("a/b", {file("m-Q8_0.gguf"), file("m-Q4_K_M.gguf")}, "q8_0");
  EXPECT_EQ(sel.model.at(0).path, "m-Q8_0.gguf");
  EXPECT_EQ(sel.quant, "Q8_0");
}

TEST(QuantSelect, MissingQuantListsTheOthers) {
  const auto msg = error_of([] { select_files("a/b", {file("m-Q8_0.gguf"), file("m-F16.gguf")}, ""); });
  EXPECT_NE(msg.find("no Q4_K_M quantization in a/b"), std::string::npos) << msg;
  EXPECT_NE(msg.find("F16, Q8_0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rmm pull a/b:F16"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { select_files("a/b", {file("m-Q8_0.gguf")}, "IQ4_XS"); }).find("Q8_0"),
            std::string::npos);
}

TEST(QuantSelect, SingleUnnamedFileIsTheDefault) {
  EXPECT_EQ(select_files("a/b", {file("model.gguf")}, "").model.at(0).path, "model.gguf");
  // ... but an explicit quantization must exist.
  EXPECT_FALSE(error_of([] { select_files("a/b", {file("model.gguf")}, "Q8_0"); }).empty());
}

TEST(QuantSelect, ExactFileName) {
  const auto sel = select_files("a/b", {file("m-Q8_0.gguf"), file("sub/m-Q4_K_M.gguf")}, "m-Q4_K_M.gguf");
  EXPECT_EQ(sel.model.at(0).path, "sub/m-Q4_K_M.gguf");
}

TEST(QuantSelect, SplitSetInOrder) {
  const auto sel = select_files(
      "a/b",
      {file("Q4_K_M/big-Q4_K_M-00003-of-00003.gguf"), file("big-Q8_0.gguf"),
       file("Q4_K_M/big-Q4_K_M-00001-of-00003.gguf"), file("Q4_K_M/big-Q4_K_M-00002-of-00003.gguf")},
      "");
  ASSERT_EQ(sel.model.size(), 3u);
  EXPECT_EQ(sel.model[0].path, "Q4_K_M/big-Q4_K_M-00001-of-00003.gguf");
  EXPECT_EQ(sel.model[2].path, "Q4_K_M/big-Q4_K_M-00003-of-00003.gguf");
}

TEST(QuantSelect, IncompleteSplitSetIsAnError) {
  const auto msg = error_of([] {
    select_files("a/b", {file("big-Q4_K_M-00001-of-00003.gguf"), file("big-Q4_K_M-00003-of-00003.gguf")}, "");
  });
  EXPECT_NE(msg.find("part 2 of 3 is missing"), std::string::npos) << msg;
}

TEST(QuantSelect, MmprojPicked) {
  auto sel =
      select_files("a/b", {file("m-Q4_K_M.gguf"), file("mmproj-m-Q8_0.gguf"), file("mmproj-m-f16.gguf")}, "");
  ASSERT_TRUE(sel.mmproj);
  EXPECT_EQ(sel.mmproj->path, "mmproj-m-f16.gguf");  // no Q4_K_M projector: the F16 one
  sel = select_files("a/b", {file("m-Q8_0.gguf"), file("mmproj-m-Q8_0.gguf"), file("mmproj-m-f16.gguf")},
                     "Q8_0");
  EXPECT_EQ(sel.mmproj->path, "mmproj-m-Q8_0.gguf");  // same quantization preferred
  // A projector is never taken for the model.
  EXPECT_FALSE(error_of([] { select_files("a/b", {file("mmproj-Q4_K_M.gguf")}, ""); }).empty());
}

TEST(Names, RepoRefs) {
  EXPECT_EQ(parse_repo_ref("bartowski/Llama-3.2-1B-Instruct-GGUF").quant, "");
  EXPECT_EQ(parse_repo_ref("a/b:Q8_0").quant, "Q8_0");
  for (const char* bad : {"nope", "a/b/c", "../b", "a/..", "a/b:", "a/b:../x", "a/b:x/y", "/b", "a/", "a b/c",
                          "a/b\\c", "a/.hidden"})
    EXPECT_THROW(parse_repo_ref(bad), Error) << bad;
}

TEST(Names, RepoPathsAndRevisions) {
  EXPECT_NO_THROW(check_repo_path("sub/dir/m-Q4_K_M.gguf"));
  for (const char* bad : {"../m.gguf", "sub/../../m.gguf", "/etc/passwd", "a//b", "./a", "a\\b", "a/\x01"})
    EXPECT_THROW(check_repo_path(bad), Error) << bad;
  EXPECT_NO_THROW(check_revision("main"));
  EXPECT_NO_THROW(check_revision("refs/pr/1"));
  for (const char* bad : {"", "..", "a/../b", "/main", "ma\nin"})
    EXPECT_THROW(check_revision(bad), Error) << bad;
  for (const char* bad : {"..", "a/b", "a\\b", "x..gguf"}) EXPECT_THROW(check_file_name(bad), Error) << bad;
}
