// The GGUF reader and ModelInfo on the three shared models. Expected values
// come from /work/shared/models/README.md and from ggml's own GGUF parser
// (gguf.h), never from this reader.
#include <gguf.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "core/error.hpp"
#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"
#include "gguf/tensor_types.hpp"
#include "gguf_builder.hpp"
#include "support/test_env.hpp"

namespace rmm::gguf {
namespace {

std::map<std::string, int> count_types(const GgufFile& f) {
  std::map<std::string, int> n;
  for (const auto& t : f.tensors) n[tensor_type_traits(t.type)->name]++;
  return n;
}

TEST(GgufReader, Stories260KMatchesTheReadme) {
  RMM_REQUIRE_SHARED_MODEL(path, "stories260K.gguf");
  const GgufFile f = read_file(path);
  EXPECT_EQ(f.version, 3u);
  EXPECT_EQ(f.file_size, 1185376u);
  const ModelInfo m = derive_model_info(f);
  EXPECT_EQ(m.architecture, "llama");
  EXPECT_EQ(m.name, "llama");
  EXPECT_EQ(m.context_length, 2048u);
  EXPECT_EQ(m.embedding_length, 64u);
  EXPECT_EQ(m.n_layer, 5u);
  EXPECT_EQ(m.ffn_length, 172u);
  EXPECT_EQ(m.n_head, 8u);
  EXPECT_EQ(m.n_head_kv, 4u);
  EXPECT_EQ(m.head_dim_k, 8u);
  EXPECT_EQ(m.head_dim_v, 8u);
  EXPECT_EQ(m.n_head_per_layer, std::vector<uint32_t>(5, 8));
  EXPECT_FALSE(m.heads_vary_per_layer);
  EXPECT_EQ(m.vocab_size, 512u);
  EXPECT_EQ(m.tokenizer_model, "llama");
  EXPECT_EQ(m.bos_token_id, 1);
  EXPECT_EQ(m.eos_token_id, 2);
  EXPECT_FALSE(m.has_chat_template);
  EXPECT_EQ(m.n_tensors, 48u);
  EXPECT_EQ(count_types(f), (std::map<std::string, int>{{"f32", 48}}));
  EXPECT_TRUE(m.has_output_tensor);
  EXPECT_FALSE(m.tied_embeddings);
  EXPECT_EQ(m.n_params, 292800u);
  EXPECT_EQ(m.tensor_bytes, 292800u * 4);  // all F32
  // No general.file_type: named after the dominant tensor type.
  EXPECT_EQ(f.find("general.file_type"), nullptr);
  EXPECT_FALSE(m.file_type_id.has_value());
  EXPECT_EQ(m.file_type, "F32");
  EXPECT_TRUE(m.file_type_guessed);
  // -1 stored as uint32, including the misspelled separator key.
  for (const char* key : {"tokenizer.ggml.padding_token_id", "tokenizer.ggml.seperator_token_id"}) {
    const Value* v = f.find(key);
    ASSERT_NE(v, nullptr) << key;
    EXPECT_EQ(v->type, ValueType::UInt32);
    EXPECT_EQ(v->u, 4294967295u);
  }
  EXPECT_EQ(m.pad_token_id, -1);
  EXPECT_EQ(m.split_count, 0u);
  // The vocabulary: a counted array with the first entries kept.
  const Value* tokens = f.find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->elem_type, ValueType::String);
  EXPECT_EQ(tokens->count, 512u);
  ASSERT_GE(tokens->head.size(), 3u);
  EXPECT_EQ(tokens->head[0].s, "<unk>");
  EXPECT_EQ(tokens->head[1].s, "<s>");
  EXPECT_EQ(tokens->head[2].s, "</s>");
}

TEST(GgufReader, TinyStoriesQ8MatchesTheReadme) {
  RMM_REQUIRE_SHARED_MODEL(path, "TinyStories-656K-Q8_0.gguf");
  const GgufFile f = read_file(path);
  EXPECT_EQ(f.version, 3u);
  const ModelInfo m = derive_model_info(f);
  EXPECT_EQ(m.architecture, "llama");
  EXPECT_EQ(m.name, "Raincandy U TinyStories 656K");
  EXPECT_EQ(m.license, "apache-2.0");
  EXPECT_EQ(m.context_length, 512u);
  EXPECT_EQ(m.embedding_length, 128u);
  EXPECT_EQ(m.n_layer, 2u);
  EXPECT_EQ(m.ffn_length, 384u);
  EXPECT_EQ(m.n_head, 8u);
  EXPECT_EQ(m.n_head_kv, 4u);
  EXPECT_EQ(m.head_dim_k, 16u);
  EXPECT_EQ(m.vocab_size, 2048u);
  ASSERT_NE(f.find("llama.vocab_size"), nullptr);
  EXPECT_EQ(f.find("llama.vocab_size")->u, 2048u);
  EXPECT_EQ(m.tokenizer_model, "llama");
  EXPECT_EQ(m.tokenizer_pre, "default");
  EXPECT_TRUE(f.find("tokenizer.ggml.add_bos_token")->b);
  EXPECT_FALSE(f.find("tokenizer.ggml.add_eos_token")->b);
  EXPECT_EQ(m.bos_token_id, 1);
  EXPECT_EQ(m.eos_token_id, 2);
  EXPECT_EQ(m.pad_token_id, 0);
  EXPECT_FALSE(m.has_chat_template);
  EXPECT_EQ(m.n_tensors, 20u);
  EXPECT_EQ(count_types(f), (std::map<std::string, int>{{"q8_0", 15}, {"f32", 5}}));
  EXPECT_FALSE(m.has_output_tensor);
  EXPECT_TRUE(m.tied_embeddings);
  EXPECT_EQ(m.n_params, 656000u);
  ASSERT_TRUE(m.file_type_id.has_value());
  EXPECT_EQ(*m.file_type_id, 7u);
  EXPECT_EQ(m.file_type, "Q8_0");
  EXPECT_FALSE(m.file_type_guessed);
}

TEST(GgufReader, LlamaTinyRandomMatchesTheReadme) {
  RMM_REQUIRE_SHARED_MODEL(path, "llama-2-tiny-random.gguf");
  const GgufFile f = read_file(path);
  EXPECT_EQ(f.version, 3u);
  const ModelInfo m = derive_model_info(f);
  EXPECT_EQ(m.name, "LLaMA v2");
  EXPECT_EQ(m.context_length, 4096u);
  EXPECT_EQ(m.embedding_length, 8u);
  EXPECT_EQ(m.n_layer, 1u);
  EXPECT_EQ(m.ffn_length, 32u);
  EXPECT_EQ(m.n_head, 2u);
  EXPECT_EQ(m.n_head_kv, 2u);
  EXPECT_EQ(m.head_dim_k, 4u);
  EXPECT_EQ(m.vocab_size, 32000u);
  EXPECT_EQ(m.bos_token_id, 1);
  EXPECT_EQ(m.eos_token_id, 2);
  EXPECT_FALSE(m.has_chat_template);
  EXPECT_EQ(m.n_tensors, 12u);
  EXPECT_EQ(count_types(f), (std::map<std::string, int>{{"f16", 9}, {"f32", 3}}));
  EXPECT_TRUE(m.has_output_tensor);
  EXPECT_FALSE(m.tied_embeddings);
  EXPECT_EQ(m.n_params, 513048u);
  EXPECT_EQ(m.file_type, "F16");
  EXPECT_EQ(*m.file_type_id, 1u);
}

// ggml's own GGUF parser is the independent reference for everything the
// file spells out: keys, types, tensor names, shapes, types, offsets.
TEST(GgufReader, AgreesWithGgmlsParserOnEverySharedModel) {
  int checked = 0;
  for (const char* name : {"stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "llama-2-tiny-random.gguf"}) {
    const auto path = test::shared_model(name);
    if (path.empty()) continue;
    SCOPED_TRACE(name);
    const GgufFile f = read_file(path);
    gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
    gguf_context* ref = gguf_init_from_file(path.c_str(), params);
    ASSERT_NE(ref, nullptr);
    EXPECT_EQ(f.version, gguf_get_version(ref));
    EXPECT_EQ(f.alignment, gguf_get_alignment(ref));
    EXPECT_EQ(f.data_offset, gguf_get_data_offset(ref));
    ASSERT_EQ(f.metadata.size(), static_cast<size_t>(gguf_get_n_kv(ref)));
    for (int64_t i = 0; i < gguf_get_n_kv(ref); ++i) {
      const auto& kv = f.metadata[static_cast<size_t>(i)];
      EXPECT_EQ(kv.key, gguf_get_key(ref, i));
      EXPECT_EQ(static_cast<int>(kv.value.type), static_cast<int>(gguf_get_kv_type(ref, i)));
      if (kv.value.type == ValueType::Array) {
        EXPECT_EQ(static_cast<int>(kv.value.elem_type), static_cast<int>(gguf_get_arr_type(ref, i)));
        EXPECT_EQ(kv.value.count, gguf_get_arr_n(ref, i));
      } else if (kv.value.type == ValueType::String) {
        EXPECT_EQ(kv.value.s, gguf_get_val_str(ref, i));
      } else if (kv.value.type == ValueType::UInt32) {
        EXPECT_EQ(kv.value.u, gguf_get_val_u32(ref, i));
      } else if (kv.value.type == ValueType::Float32) {
        EXPECT_EQ(static_cast<float>(kv.value.f), gguf_get_val_f32(ref, i));
      }
    }
    ASSERT_EQ(f.tensors.size(), static_cast<size_t>(gguf_get_n_tensors(ref)));
    for (int64_t i = 0; i < gguf_get_n_tensors(ref); ++i) {
      const auto& t = f.tensors[static_cast<size_t>(i)];
      EXPECT_EQ(t.name, gguf_get_tensor_name(ref, i));
      EXPECT_EQ(t.type, static_cast<uint32_t>(gguf_get_tensor_type(ref, i)));
      EXPECT_EQ(t.offset, gguf_get_tensor_offset(ref, i));
      EXPECT_EQ(t.n_bytes, gguf_get_tensor_size(ref, i));
    }
    gguf_free(ref);
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no shared models in " << test::shared_models_dir();
}

TEST(GgufReader, FileAndBufferGiveTheSameResult) {
  RMM_REQUIRE_SHARED_MODEL(path, "TinyStories-656K-Q8_0.gguf");
  const auto bytes = test::read_bytes(path);
  const GgufFile a = read_file(path);
  const GgufFile b = read_buffer(bytes, "mem");
  EXPECT_EQ(b.name, "mem");
  ASSERT_EQ(a.metadata.size(), b.metadata.size());
  for (size_t i = 0; i < a.metadata.size(); ++i) EXPECT_EQ(a.metadata[i].key, b.metadata[i].key);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) EXPECT_EQ(a.tensors[i].offset, b.tensors[i].offset);
  EXPECT_EQ(a.data_offset, b.data_offset);
}

TEST(GgufReader, ReadsEveryValueTypeAndNestedArraysInVersion2) {
  test::GgufBuilder g;
  g.header(2, 1, 15);
  g.key("u8", 0).u8(200);
  g.key("i8", 1).u8(0xff);  // -1
  g.key("u16", 2).u16(65535);
  g.key("i16", 3).u16(0x8000);  // -32768
  g.kv_u32("u32", 4000000000u);
  g.key("i32", 5).i32(-7);
  g.key("f32", 6).f32(1.5f);
  g.key("bool", 7).u8(1);
  g.kv_str("str", "h\xc3\xa9llo");
  g.key("u64", 10).u64(~0ull);
  g.key("i64", 11).i64(-(1ll << 40));
  g.key("f64", 12).f64(-0.25);
  g.key("nested", 9).u32(9).u64(2);  // array of 2 arrays
  g.u32(4).u64(3).u32(1).u32(2).u32(3);
  g.u32(8).u64(1).str("x");
  g.key("empty", 9).u32(0).u64(0);
  g.key("general.alignment", 4).u32(64);
  g.tensor("w", {64, 2}, 0, 0);
  g.align(64).zeros(64 * 2 * 4);
  const GgufFile f = read_buffer(g.bytes);
  EXPECT_EQ(f.version, 2u);
  EXPECT_EQ(f.find("u8")->u, 200u);
  EXPECT_EQ(f.find("i8")->i, -1);
  EXPECT_EQ(f.find("u16")->u, 65535u);
  EXPECT_EQ(f.find("i16")->i, -32768);
  EXPECT_EQ(f.find("u32")->u, 4000000000u);
  EXPECT_EQ(f.find("i32")->i, -7);
  EXPECT_EQ(f.find("f32")->f, 1.5);
  EXPECT_TRUE(f.find("bool")->b);
  EXPECT_EQ(f.find("str")->s, "h\xc3\xa9llo");
  EXPECT_EQ(f.find("u64")->u, ~0ull);
  EXPECT_FALSE(f.find("u64")->as_int().has_value());
  EXPECT_EQ(f.find("i64")->i, -(1ll << 40));
  EXPECT_EQ(f.find("f64")->f, -0.25);
  const Value* nested = f.find("nested");
  ASSERT_EQ(nested->count, 2u);
  EXPECT_EQ(nested->elem_type, ValueType::Array);
  EXPECT_EQ(nested->head[0].count, 3u);
  EXPECT_EQ(nested->head[0].head[2].u, 3u);
  EXPECT_EQ(nested->head[1].head[0].s, "x");
  EXPECT_EQ(f.find("empty")->count, 0u);
  EXPECT_EQ(f.alignment, 64u);
  EXPECT_EQ(f.data_offset % 64, 0u);
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors[0].n_bytes, 64u * 2 * 4);
}

TEST(GgufReader, LargeVocabularyParsesQuicklyAndIsNotStored) {
  // A 128k-token vocabulary, as in Llama 3: the reader counts it and keeps the head.
  constexpr uint64_t kTokens = 128256;
  test::GgufBuilder g;
  g.header(3, 0, 2);
  g.key("tokenizer.ggml.tokens", 9).u32(8).u64(kTokens);
  for (uint64_t i = 0; i < kTokens; ++i) g.str("tok" + std::to_string(i));
  g.key("tokenizer.ggml.scores", 9).u32(6).u64(kTokens);
  g.zeros(kTokens * 4);
  const auto dir = test::temp_dir("gguf-vocab");
  g.write(dir / "vocab.gguf");
  const auto start = std::chrono::steady_clock::now();
  const GgufFile f = read_file(dir / "vocab.gguf");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Value* tokens = f.find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->count, kTokens);
  EXPECT_LE(tokens->head.size(), kArrayHeadOther);
  EXPECT_EQ(tokens->head[5].s, "tok5");
  EXPECT_EQ(f.find("tokenizer.ggml.scores")->count, kTokens);
  EXPECT_EQ(derive_model_info(f).vocab_size, kTokens);
  EXPECT_LT(seconds, 2.0);  // typically a few milliseconds
}

TEST(GgufModelInfo, PerLayerHeadCountsAndSplitInfo) {
  test::GgufBuilder g;
  g.header(3, 0, 8);
  g.kv_str("general.architecture", "toy");
  g.kv_u32("toy.block_count", 3);
  g.kv_u32("toy.embedding_length", 96);
  g.key("toy.attention.head_count", 9).u32(4).u64(3).u32(4).u32(8).u32(6);
  g.key("toy.attention.head_count_kv", 9).u32(5).u64(3).i32(2).i32(2).i32(0);
  g.key("split.no", 2).u16(1);
  g.key("split.count", 2).u16(3);
  g.key("split.tensors.count", 5).i32(700);
  const ModelInfo m = derive_model_info(read_buffer(g.bytes));
  EXPECT_EQ(m.n_head, 8u);
  EXPECT_EQ(m.n_head_kv, 2u);
  EXPECT_EQ(m.n_head_per_layer, (std::vector<uint32_t>{4, 8, 6}));
  EXPECT_EQ(m.n_head_kv_per_layer, (std::vector<uint32_t>{2, 2, 0}));
  EXPECT_TRUE(m.heads_vary_per_layer);
  EXPECT_EQ(m.head_dim_k, 12u);  // 96 / 8
  EXPECT_EQ(m.split_no, 2u);     // 1-based
  EXPECT_EQ(m.split_count, 3u);
  EXPECT_EQ(m.split_tensors_count, 700u);
  EXPECT_TRUE(m.file_type.empty());
}

TEST(GgufModelInfo, FileTypeNamesFollowLlamaH) {
  EXPECT_EQ(file_type_name(0), "F32");
  EXPECT_EQ(file_type_name(1), "F16");
  EXPECT_EQ(file_type_name(2), "Q4_0");
  EXPECT_EQ(file_type_name(7), "Q8_0");
  EXPECT_EQ(file_type_name(15), "Q4_K_M");
  EXPECT_EQ(file_type_name(17), "Q5_K_M");
  EXPECT_EQ(file_type_name(18), "Q6_K");
  EXPECT_EQ(file_type_name(32), "BF16");
  EXPECT_FALSE(file_type_name(4).has_value());  // removed Q4_1_SOME_F16
  EXPECT_FALSE(file_type_name(9999).has_value());
}

TEST(GgufModelInfo, WrongTypesAreErrorsNamingTheKey) {
  auto expect_bad = [](const test::GgufBuilder& g, const std::string& needle) {
    try {
      derive_model_info(read_buffer(g.bytes, "crafted.gguf"));
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::BadFile);
      EXPECT_NE(std::string(e.what()).find("crafted.gguf: "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  {
    test::GgufBuilder g;
    g.header(3, 0, 2).kv_str("general.architecture", "llama").kv_str("llama.context_length", "long");
    expect_bad(g, "llama.context_length has type string");
  }
  {
    test::GgufBuilder g;
    g.header(3, 0, 1).kv_u32("general.architecture", 5);
    expect_bad(g, "general.architecture has type uint32");
  }
  {
    test::GgufBuilder g;
    g.header(3, 0, 3).kv_str("general.architecture", "llama").kv_u32("llama.block_count", 2);
    g.key("llama.attention.head_count", 9).u32(4).u64(3).u32(1).u32(1).u32(1);
    expect_bad(g, "has 3 values but the model has 2 layers");
  }
  {
    test::GgufBuilder g;
    g.header(3, 0, 2).kv_str("general.architecture", "llama");
    g.key("llama.embedding_length", 5).i32(-4);
    expect_bad(g, "out-of-range value -4");
  }
  {
    test::GgufBuilder g;
    g.header(3, 0, 2).kv_str("general.architecture", "llama").kv_u32("llama.block_count", 100000);
    expect_bad(g, "llama.block_count is 100000");
  }
}

}  // namespace
}  // namespace rmm::gguf
