// The forge's library side: shapes, validation, the tensor plan, the random
// numbers, and forge() itself (determinism, progress, atomic output).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "forge/forge.hpp"
#include "forge/forge_fixture.hpp"
#include "forge/rng.hpp"
#include "forge/spec.hpp"
#include "forge/tensor_plan.hpp"
#include "forge/vocab.hpp"

namespace rmm::forge {
namespace {

namespace fs = std::filesystem;

std::string validation_error(const Spec& spec, const FieldNamer& namer = default_field_name) {
  try {
    validate(spec, namer);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    return e.what();
  }
  return "";
}

TEST(ForgeSpec, PresetsAreValid) {
  for (const auto& name : preset_names()) {
    EXPECT_NO_THROW(validate(preset(name))) << name;
  }
  EXPECT_THROW(preset("70b"), Error);
}

TEST(ForgeSpec, PresetShapesMatchTheModelsTheyImitate) {
  // Llama-3.2-1B and Llama-3-8B, from their published configs.
  const Shape one = preset("1b").shape;
  EXPECT_EQ(one.n_layer, 16u);
  EXPECT_EQ(one.n_embd, 2048u);
  EXPECT_EQ(one.n_head, 32u);
  EXPECT_EQ(one.n_head_kv, 8u);
  EXPECT_EQ(one.n_ff, 8192u);
  EXPECT_TRUE(one.tie_embeddings);
  const Shape eight = preset("8b").shape;
  EXPECT_EQ(eight.n_layer, 32u);
  EXPECT_EQ(eight.n_embd, 4096u);
  EXPECT_EQ(eight.n_ff, 14336u);
  EXPECT_EQ(eight.n_head_kv, 8u);
  EXPECT_FLOAT_EQ(eight.rope_freq_base, 500000.0f);
  EXPECT_FALSE(eight.tie_embeddings);
}

TEST(ForgeSpec, ValidationNamesTheField) {
  Spec spec = preset("tiny");
  spec.shape.n_head = 5;  // 64 is not divisible by 5
  EXPECT_NE(validation_error(spec).find("n_head"), std::string::npos);
  EXPECT_NE(validation_error(spec, [](Field f) { return f == Field::Heads ? "--heads" : "--other"; })
                .find("--heads"),
            std::string::npos);

  spec = preset("tiny");
  spec.shape.n_head_kv = 3;  // does not divide 4 heads
  EXPECT_NE(validation_error(spec).find("n_head_kv"), std::string::npos);

  spec = preset("tiny");
  spec.shape.n_head = 64;  // head size 1: RoPE needs pairs
  EXPECT_NE(validation_error(spec).find("even"), std::string::npos);

  spec = preset("tiny");
  spec.shape.n_layer = 0;
  EXPECT_NE(validation_error(spec).find("n_layer"), std::string::npos);
  spec.shape.n_layer = kMaxLayers + 1;
  EXPECT_NE(validation_error(spec).find("n_layer"), std::string::npos);

  spec = preset("tiny");
  spec.shape.rms_eps = 0.0f;
  EXPECT_NE(validation_error(spec).find("rms_eps"), std::string::npos);
  spec = preset("tiny");
  spec.shape.rope_freq_base = NAN;
  EXPECT_NE(validation_error(spec).find("rope_freq_base"), std::string::npos);
}

TEST(ForgeSpec, WeightTypeNames) {
  EXPECT_EQ(parse_weight_type("Q4_K"), WeightType::Q4_K);
  EXPECT_EQ(parse_weight_type("f16"), WeightType::F16);
  EXPECT_STREQ(weight_type_name(parse_weight_type("q8_0")), "q8_0");
  EXPECT_THROW(parse_weight_type("q3_k"), Error);
}

TEST(ForgeTensorPlan, NamesAndCounts) {
  Shape s = preset("tiny").shape;
  auto plan = plan_tensors(s, 32000, WeightType::F16);
  ASSERT_EQ(plan.size(), 3u + 9u * s.n_layer);
  std::set<std::string> names;
  for (const auto& t : plan) names.insert(t.name);
  EXPECT_EQ(names.size(), plan.size());
  EXPECT_TRUE(names.count("token_embd.weight"));
  EXPECT_TRUE(names.count("output.weight"));
  EXPECT_TRUE(names.count("blk.1.ffn_down.weight"));
  for (const auto& t : plan) EXPECT_EQ(t.type, t.is_norm ? GGML_TYPE_F32 : GGML_TYPE_F16) << t.name;

  s.tie_embeddings = true;
  plan = plan_tensors(s, 32000, WeightType::F16);
  EXPECT_EQ(plan.size(), 2u + 9u * s.n_layer);
}

TEST(ForgeTensorPlan, Q4KMediumMixFollowsLlamaQuantize) {
  // llama-quantize's Q4_K_M gives attn_v and ffn_down Q6_K in layers where
  // i < n/8, i >= 7n/8 or (i - n/8) % 3 == 2: for 8 layers, layers 0, 3, 6, 7.
  Shape s = preset("8b").shape;
  s.n_layer = 8;
  const auto plan = plan_tensors(s, 1024, WeightType::Q4_K);
  const std::set<int> more_bits = {0, 3, 6, 7};
  for (const auto& t : plan) {
    int layer = -1;
    char role[64] = {};
    if (std::sscanf(t.name.c_str(), "blk.%d.%63[a-z_]", &layer, role) == 2) {
      const std::string r = role;
      if (r == "attn_norm" || r == "ffn_norm") {
        EXPECT_EQ(t.type, GGML_TYPE_F32) << t.name;
      } else if ((r == "attn_v" || r == "ffn_down") && more_bits.count(layer)) {
        EXPECT_EQ(t.type, GGML_TYPE_Q6_K) << t.name;
      } else {
        EXPECT_EQ(t.type, GGML_TYPE_Q4_K) << t.name;
      }
    } else if (t.name == "output.weight") {
      EXPECT_EQ(t.type, GGML_TYPE_Q6_K);
    } else if (t.name == "token_embd.weight") {
      EXPECT_EQ(t.type, GGML_TYPE_Q4_K);
    }
  }
}

TEST(ForgeTensorPlan, RowsThatDoNotFitBlocksFallBack) {
  // 64-wide rows cannot hold 256-value K-quant blocks: Q4_K -> Q5_0 and Q6_K -> Q8_0, as llama-quantize does.
  const auto plan = plan_tensors(preset("tiny").shape, 32000, WeightType::Q4_K);
  auto type_of = [&](const std::string& name) {
    for (const auto& t : plan) {
      if (t.name == name) return t.type;
    }
    return GGML_TYPE_COUNT;
  };
  EXPECT_EQ(type_of("blk.0.attn_q.weight"), GGML_TYPE_Q5_0);
  EXPECT_EQ(type_of("output.weight"), GGML_TYPE_Q8_0);
  EXPECT_EQ(type_of("blk.0.ffn_down.weight"), GGML_TYPE_Q4_K);  // 256-wide rows
  Shape odd = preset("tiny").shape;
  odd.n_embd = 40;  // not a multiple of 32: F16
  odd.n_head = 4;
  const auto plan8 = plan_tensors(odd, 100, WeightType::Q8_0);
  EXPECT_EQ(plan8[0].type, GGML_TYPE_F16);
}

TEST(ForgeRng, SameSeedSameStreamAndDistinctRows) {
  Xoshiro256 a(row_seed(7, 3, 11)), b(row_seed(7, 3, 11)), c(row_seed(7, 3, 12)), d(row_seed(7, 4, 11));
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
    EXPECT_NE(x, d.next());
  }
}

TEST(ForgeRng, NormalishHasTheRequestedMeanAndSpread) {
  Xoshiro256 rng(42);
  const int n = 1 << 20;
  double sum = 0, sum2 = 0, max_abs = 0;
  for (int i = 0; i < n; ++i) {
    const double v = rng.normalish(0.02f);
    sum += v;
    sum2 += v * v;
    max_abs = std::max(max_abs, std::fabs(v));
  }
  const double mean = sum / n, std = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 1e-4);
  EXPECT_NEAR(std, 0.02, 0.0002);
  // Four uniforms bound the sum at 2*sqrt(3) standard deviations.
  EXPECT_LE(max_abs, 0.02 * 2 * std::sqrt(3.0) + 1e-6);
}

class ForgeApi : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::temp_dir("forge-api"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ForgeApi, OutputDoesNotDependOnThreadCount) {
  Spec spec = preset("tiny");
  spec.type = WeightType::Q4_K;
  spec.seed = 99;
  ForgeOptions one, many;
  one.threads = 1;
  many.threads = 5;
  const auto r1 = forge(spec, dir_ / "one.gguf", one);
  const auto r2 = forge(spec, dir_ / "many.gguf", many);
  EXPECT_EQ(r1.file_size, fs::file_size(dir_ / "one.gguf"));
  EXPECT_TRUE(test::read_file(dir_ / "one.gguf") == test::read_file(dir_ / "many.gguf"));
}

TEST_F(ForgeApi, ProgressReachesTheFileSize) {
  Spec spec = preset("tiny");
  uint64_t last = 0, total = 0;
  size_t calls = 0, last_tensor = 0;
  ForgeOptions options;
  options.progress = [&](const Progress& p) {
    EXPECT_GE(p.bytes_written, last);
    EXPECT_GE(p.tensor_index, last_tensor);
    last = p.bytes_written;
    last_tensor = p.tensor_index;
    total = p.total_bytes;
    ++calls;
  };
  const auto r = forge(spec, dir_ / "p.gguf", options);
  EXPECT_GT(calls, 1u);
  EXPECT_EQ(last, total);
  EXPECT_EQ(total, fs::file_size(dir_ / "p.gguf"));
  EXPECT_EQ(last_tensor + 1, r.n_tensors);
}

TEST_F(ForgeApi, FailuresLeaveNothingBehind) {
  Spec spec = preset("tiny");
  try {
    forge(spec, dir_ / "missing" / "m.gguf");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
  // A file that is not a GGUF, offered as the vocabulary.
  std::ofstream(dir_ / "bogus.gguf") << "not a gguf";
  spec.vocab = (dir_ / "bogus.gguf").string();
  try {
    forge(spec, dir_ / "m.gguf");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadFile);
    EXPECT_NE(std::string(e.what()).find("bogus.gguf"), std::string::npos);
  }
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) entries += entry.path().filename() != "bogus.gguf";
  EXPECT_EQ(entries, 0u);
}

TEST_F(ForgeApi, UnknownVocabNameListsTheKnownOnes) {
  Spec spec = preset("tiny");
  spec.vocab = "no-such-vocab";
  try {
    forge(spec, dir_ / "m.gguf");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("llama-spm"), std::string::npos) << e.what();
  }
}

TEST_F(ForgeApi, VocabDirComesFromTheEnvironment) {
  fs::copy_file(test::llama_vocab_file("llama-spm"), dir_ / "ggml-vocab-mine.gguf");
  ::setenv("RMM_VOCAB_DIR", dir_.c_str(), 1);
  struct Unset {
    ~Unset() { ::unsetenv("RMM_VOCAB_DIR"); }
  } unset;
  EXPECT_EQ(vocab_dir(), dir_);
  EXPECT_EQ(available_vocabs(), std::vector<std::string>{"mine"});
  EXPECT_EQ(resolve_vocab("mine"), dir_ / "ggml-vocab-mine.gguf");
  EXPECT_THROW(resolve_vocab("llama-spm"), Error);
  // A path is taken as is, whatever the folder.
  EXPECT_EQ(resolve_vocab(test::llama_vocab_file("qwen2").string()), test::llama_vocab_file("qwen2"));
}

}  // namespace
}  // namespace rmm::forge
