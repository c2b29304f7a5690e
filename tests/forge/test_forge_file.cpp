// Forged files as llama.cpp sees them: loaded through llama.h (not through our
// engine), decoded, and run by llama.cpp's own llama-completion.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "forge/forge_fixture.hpp"
#include "support/peer.hpp"

namespace rmm::test {
namespace {

namespace fs = std::filesystem;

// A shape unlike any preset, so every value checked below comes from the flags.
const std::vector<std::string> kShape = {"--layers",   "3", "--embd", "96",  "--heads", "6",
                                         "--kv-heads", "2", "--ffn",  "160", "--ctx",   "384"};

class ForgedFile : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { dir_ = temp_dir("forge-file-" + GetParam()); }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path forge(std::vector<std::string> args) {
    const fs::path out = dir_ / "model.gguf";
    args.insert(args.begin(), {"--quiet", "--type", GetParam()});
    const ProcessResult r = rmm_forge(out, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }

  fs::path dir_;
};

TEST_P(ForgedFile, LlamaCppReadsTheShapeAndVocabulary) {
  const fs::path file = forge(kShape);
  ModelPtr model = load_with_llama(file);
  ASSERT_TRUE(model) << "llama.cpp could not load " << file;
  EXPECT_EQ(llama_model_n_layer(model.get()), 3);
  EXPECT_EQ(llama_model_n_embd(model.get()), 96);
  EXPECT_EQ(llama_model_n_head(model.get()), 6);
  EXPECT_EQ(llama_model_n_head_kv(model.get()), 2);
  EXPECT_EQ(llama_model_n_ctx_train(model.get()), 384);
  EXPECT_EQ(llama_meta(model.get(), "general.architecture"), "llama");
  EXPECT_EQ(llama_meta(model.get(), "llama.feed_forward_length"), "160");

  // The vocabulary is llama.cpp's own llama-spm file, token for token.
  ModelPtr vocab = load_with_llama(llama_vocab_file("llama-spm"), /*vocab_only=*/true);
  ASSERT_TRUE(vocab);
  const llama_vocab* v = llama_model_get_vocab(model.get());
  const llama_vocab* ref = llama_model_get_vocab(vocab.get());
  ASSERT_EQ(llama_vocab_n_tokens(v), llama_vocab_n_tokens(ref));
  EXPECT_EQ(llama_vocab_bos(v), llama_vocab_bos(ref));
  EXPECT_EQ(llama_vocab_eos(v), llama_vocab_eos(ref));
  for (llama_token t : {0, 1, 2, 100, 1000, 31999}) {
    EXPECT_STREQ(llama_vocab_get_text(v, t), llama_vocab_get_text(ref, t)) << t;
    EXPECT_EQ(llama_vocab_get_score(v, t), llama_vocab_get_score(ref, t)) << t;
  }

  // Parameter count by hand: embeddings and output head, then per block
  // 2 norms, q and o (embd x embd), k and v (embd x kv heads * head size 16), 3 FFN matrices.
  const uint64_t n_vocab = llama_vocab_n_tokens(ref), embd = 96, kv = 2 * 16, ffn = 160;
  const uint64_t per_block = 2 * embd + 2 * embd * embd + 2 * embd * kv + 3 * embd * ffn;
  EXPECT_EQ(llama_model_n_params(model.get()), 2 * n_vocab * embd + 3 * per_block + embd);
}

TEST_P(ForgedFile, FileTypeIsTheMatchingLlamaFtype) {
  const fs::path file = forge({});
  ModelPtr model = load_with_llama(file);
  ASSERT_TRUE(model);
  const std::string type = GetParam();
  const llama_ftype expected = type == "f32"    ? LLAMA_FTYPE_ALL_F32
                               : type == "f16"  ? LLAMA_FTYPE_MOSTLY_F16
                               : type == "q8_0" ? LLAMA_FTYPE_MOSTLY_Q8_0
                                                : LLAMA_FTYPE_MOSTLY_Q4_K_M;
  EXPECT_EQ(llama_meta(model.get(), "general.file_type"), std::to_string(static_cast<int>(expected)));
  // Norms stay F32 in every type.
  EXPECT_EQ(gguf_tensor_type(file, "blk.0.attn_norm.weight"), "f32");
}

TEST_P(ForgedFile, DecodingGivesFiniteLogits) {
  const fs::path file = forge({});
  ModelPtr model = load_with_llama(file);
  ASSERT_TRUE(model);
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 64;
  cp.n_batch = 64;
  cp.n_threads = cp.n_threads_batch = 1;
  llama_context* ctx = llama_init_from_model(model.get(), cp);
  ASSERT_NE(ctx, nullptr);
  const llama_vocab* vocab = llama_model_get_vocab(model.get());
  const std::string text = "Once upon a time there was a model";
  std::vector<llama_token> tokens(64);
  const int n = llama_tokenize(vocab, text.c_str(), static_cast<int32_t>(text.size()), tokens.data(),
                               static_cast<int32_t>(tokens.size()), true, false);
  ASSERT_GT(n, 1);
  tokens.resize(n);
  ASSERT_EQ(llama_decode(ctx, llama_batch_get_one(tokens.data(), n)), 0);
  const float* logits = llama_get_logits_ith(ctx, -1);
  ASSERT_NE(logits, nullptr);
  float lo = logits[0], hi = logits[0];
  for (int i = 0; i < llama_vocab_n_tokens(vocab); ++i) {
    ASSERT_TRUE(std::isfinite(logits[i])) << "logit " << i;
    lo = std::min(lo, logits[i]);
    hi = std::max(hi, logits[i]);
  }
  EXPECT_LT(lo, hi);  // random weights still tell tokens apart
  llama_free(ctx);
}

TEST_P(ForgedFile, LlamaCompletionGeneratesText) {
  const fs::path file = forge({});
  // Through the peer helper: llama-completion's stdout can lose its tail on a busy machine
  // (llama.cpp issue 22142), and the helper reruns it until a run completes.
  const PeerText peer = llama_completion_text(file.string(), "Once upon a time", 8, {"-t", "1"});
  EXPECT_TRUE(peer.complete) << "llama-completion never finished its output: " << peer.text;
  EXPECT_FALSE(peer.text.empty()) << "no generated text";
}

INSTANTIATE_TEST_SUITE_P(Types, ForgedFile, ::testing::Values("f32", "f16", "q8_0", "q4_k"),
                         [](const auto& info) { return info.param; });

class ForgedVariants : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_dir("forge-variants"); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ForgedVariants, WideQ4KUsesRealKQuantBlocks) {
  // 256-wide rows fit K-quant blocks, so this is the Q4_K_M mix of a real model
  // (tied, as Llama-3.2-1B is, which also halves the time).
  const fs::path file = dir_ / "wide.gguf";
  const ProcessResult r =
      rmm_forge(file, {"--quiet", "--type", "q4_k", "--layers", "1", "--embd", "256", "--heads", "4",
                       "--kv-heads", "2", "--ffn", "512", "--tie-embeddings"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(gguf_tensor_type(file, "blk.0.attn_q.weight"), "q4_K");
  EXPECT_EQ(gguf_tensor_type(file, "blk.0.attn_v.weight"), "q6_K");  // layer 0 of 1 gets more bits
  // Tied embeddings are the output head, which Q4_K_M keeps in Q6_K.
  EXPECT_EQ(gguf_tensor_type(file, "token_embd.weight"), "q6_K");
  EXPECT_EQ(gguf_tensor_type(file, "output.weight"), "(absent)");
  const PeerText peer = llama_completion_text(file.string(), "Hello", 8, {"-t", "1"});
  EXPECT_TRUE(peer.complete) << "llama-completion never finished its output: " << peer.text;
  EXPECT_FALSE(peer.text.empty()) << "no generated text";
}

TEST_F(ForgedVariants, TiedEmbeddingsAndAChatTemplateFromTheVocab) {
  // qwen2's vocab file carries a chat template; tied embeddings drop output.weight.
  const fs::path file = dir_ / "qwen.gguf";
  const ProcessResult r =
      rmm_forge(file, {"--quiet", "--vocab", "qwen2", "--tie-embeddings", "--type", "q8_0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(gguf_tensor_type(file, "output.weight"), "(absent)");
  ModelPtr model = load_with_llama(file);
  ASSERT_TRUE(model);
  ModelPtr ref = load_with_llama(llama_vocab_file("qwen2"), /*vocab_only=*/true);
  ASSERT_TRUE(ref);
  EXPECT_EQ(llama_vocab_n_tokens(llama_model_get_vocab(model.get())),
            llama_vocab_n_tokens(llama_model_get_vocab(ref.get())));
  const char* tmpl = llama_model_chat_template(model.get(), nullptr);
  const char* ref_tmpl = llama_model_chat_template(ref.get(), nullptr);
  ASSERT_NE(ref_tmpl, nullptr);
  ASSERT_NE(tmpl, nullptr);
  EXPECT_STREQ(tmpl, ref_tmpl);
}

}  // namespace
}  // namespace rmm::test
