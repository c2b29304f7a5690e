// Hostile and broken GGUF input: every case must give rmm::Error with
// BadFile (NotFound for a missing path) and a message naming the file and the
// problem; none may crash or allocate what the file cannot hold.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "gguf/memory_estimate.hpp"
#include "gguf/model_info.hpp"
#include "gguf/reader.hpp"
#include "gguf_builder.hpp"
#include "support/test_env.hpp"

namespace rmm::gguf {
namespace {

// Parses `bytes` and returns the error message; fails the test when the
// input is accepted or the error is not BadFile.
std::string bad_buffer(const std::vector<uint8_t>& bytes) {
  try {
    read_buffer(bytes, "bad.gguf");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadFile) << e.what();
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  }
  ADD_FAILURE() << "accepted";
  return {};
}

#define EXPECT_BAD(bytes, needle)                                           \
  do {                                                                      \
    const std::string msg_ = bad_buffer(bytes);                             \
    EXPECT_NE(msg_.find(needle), std::string::npos) << "message: " << msg_; \
  } while (0)

test::GgufBuilder header(uint64_t n_tensors, uint64_t n_kv) {
  test::GgufBuilder g;
  g.header(3, n_tensors, n_kv);
  return g;
}

TEST(GgufBadFiles, MagicAndVersion) {
  EXPECT_BAD(std::vector<uint8_t>{}, "file is empty");
  EXPECT_BAD((std::vector<uint8_t>{'G', 'G'}), "too small");
  const std::string text = "hello, this is a text file\n";
  EXPECT_BAD(std::vector<uint8_t>(text.begin(), text.end()),
             "not a GGUF file (it does not start with 'GGUF')");
  test::GgufBuilder ggml;
  ggml.raw("ggjt", 4).u32(3).zeros(32);
  EXPECT_BAD(ggml.bytes, "not a GGUF file");
  test::GgufBuilder v1;
  v1.header(1, 0, 0);
  EXPECT_BAD(v1.bytes, "GGUF version 1 is not supported");
  test::GgufBuilder real_v1;  // version 1 had 32-bit counts: a shorter header
  real_v1.raw("GGUF", 4).u32(1).u32(0).u32(0);
  EXPECT_BAD(real_v1.bytes, "GGUF version 1 is not supported");
  test::GgufBuilder v4;
  v4.header(4, 0, 0);
  EXPECT_BAD(v4.bytes, "unsupported GGUF version 4");
  test::GgufBuilder swapped;
  swapped.header(0x03000000u, 0, 0);
  EXPECT_BAD(swapped.bytes, "big-endian");
  test::GgufBuilder short_header;
  short_header.raw("GGUF", 4).u32(3).u64(0);
  EXPECT_BAD(short_header.bytes, "truncated");
}

TEST(GgufBadFiles, AbsurdCounts) {
  EXPECT_BAD(header(0, 1ull << 62).bytes, "metadata entries, more than the file can hold");
  EXPECT_BAD(header(~0ull, 0).bytes, "tensors, more than the file can hold");
  // Plausible alone, too many together for the bytes that follow.
  auto both = header(2, 2);
  both.zeros(60);
  EXPECT_BAD(both.bytes, "more than the file can hold");
}

TEST(GgufBadFiles, HugeLengths) {
  auto key = header(0, 1);
  key.u64(1ull << 40).zeros(16);
  EXPECT_BAD(key.bytes, "more than the limit");
  auto value = header(0, 1);
  value.key("k", 8).u64(~0ull).zeros(16);
  EXPECT_BAD(value.bytes, "the string value of key 'k' is 18446744073709551615 bytes long but only");
  auto array = header(0, 1);
  array.key("a", 9).u32(10).u64(1ull << 61).zeros(64);  // u64 elements
  EXPECT_BAD(array.bytes, "claims 2305843009213693952 uint64 elements");
  auto strings = header(0, 1);
  strings.key("a", 9).u32(8).u64(100).str("x").zeros(20);
  EXPECT_BAD(strings.bytes, "more than the remaining");
  auto inner = header(0, 1);
  inner.key("a", 9).u32(8).u64(2).str("ok").u64(1ull << 50).zeros(8);
  EXPECT_BAD(inner.bytes, "bytes long but only");
}

TEST(GgufBadFiles, InvalidValues) {
  auto type = header(0, 1);
  type.key("k", 13).u32(0);
  EXPECT_BAD(type.bytes, "key 'k' has an invalid value type 13");
  auto elem = header(0, 1);
  elem.key("k", 9).u32(99).u64(1).u32(0);
  EXPECT_BAD(elem.bytes, "array of invalid type 99");
  auto boolean = header(0, 1);
  boolean.key("k", 7).u8(2).zeros(3);
  EXPECT_BAD(boolean.bytes, "invalid bool value 2");
  auto deep = header(0, 1);
  deep.key("k", 9);
  for (int i = 0; i < 6; ++i) deep.u32(9).u64(1);
  deep.u32(0).u64(0).zeros(8);
  EXPECT_BAD(deep.bytes, "nested more than 4 deep");
  auto dup = header(0, 2);
  dup.kv_u32("k", 1).kv_u32("k", 2);
  EXPECT_BAD(dup.bytes, "duplicate metadata key 'k'");
  auto empty_key = header(0, 1);
  empty_key.kv_u32("", 1);
  EXPECT_BAD(empty_key.bytes, "is empty");
  auto align_type = header(0, 1);
  align_type.key("general.alignment", 10).u64(32);
  EXPECT_BAD(align_type.bytes, "general.alignment has type uint64, expected uint32");
  auto align_pow = header(0, 1);
  align_pow.kv_u32("general.alignment", 48);
  EXPECT_BAD(align_pow.bytes, "not a power of 2");
  auto align_zero = header(0, 1);
  align_zero.kv_u32("general.alignment", 0);
  EXPECT_BAD(align_zero.bytes, "not a power of 2");
  auto control = header(0, 1);
  control.key(std::string("a\nb", 3), 13).u32(0);
  EXPECT_BAD(control.bytes, "key 'a\\x0ab'");  // kept on one line
}

TEST(GgufBadFiles, InvalidTensorInfos) {
  auto finish = [](test::GgufBuilder g, size_t data) {
    g.align().zeros(data);
    return g.bytes;
  };
  auto dims = header(1, 0);
  dims.str("t").u32(5);
  dims.zeros(64);
  EXPECT_BAD(dims.bytes, "tensor 't' has 5 dimensions, at most 4");
  auto unknown = header(1, 0);
  unknown.tensor("t", {32}, 200, 0);
  EXPECT_BAD(finish(unknown, 64), "tensor 't' has an unknown tensor type id 200");
  auto removed = header(1, 0);
  removed.tensor("t", {32}, 4, 0);  // GGML_TYPE_Q4_2, removed
  EXPECT_BAD(finish(removed, 64), "unknown tensor type id 4");
  auto count_type = header(1, 0);
  count_type.tensor("t", {32}, 43, 0);  // GGML_TYPE_COUNT
  EXPECT_BAD(finish(count_type, 64), "unknown tensor type id 43");
  auto negative = header(1, 0);
  negative.tensor("t", {~0ull}, 0, 0);
  EXPECT_BAD(finish(negative, 64), "invalid size");
  auto elements = header(1, 0);
  elements.tensor("t", {1ull << 40, 1ull << 40}, 0, 0);
  EXPECT_BAD(finish(elements, 64), "element count overflows");
  auto bytes = header(1, 0);
  bytes.tensor("t", {1ull << 31, 1ull << 31}, 28, 0);  // f64: 2^62 elements, 2^65 bytes
  EXPECT_BAD(finish(bytes, 64), "byte size overflows");
  auto block = header(1, 0);
  block.tensor("t", {33}, 8, 0);  // q8_0 rows must be multiples of 32
  EXPECT_BAD(finish(block, 64), "not a multiple of the block size 32");
  auto name = header(1, 0);
  name.tensor(std::string(64, 'n'), {1}, 0, 0);
  EXPECT_BAD(finish(name, 64), "more than the limit of 63");
  auto dup = header(2, 0);
  dup.tensor("t", {8}, 0, 0).tensor("t", {8}, 0, 32);
  EXPECT_BAD(finish(dup, 64), "duplicate tensor name 't'");
  auto unaligned = header(1, 0);
  unaligned.tensor("t", {8}, 0, 4);
  EXPECT_BAD(finish(unaligned, 64), "not a multiple of the alignment 32");
  auto past_end = header(1, 0);
  past_end.tensor("t", {1024}, 0, 0);
  EXPECT_BAD(finish(past_end, 100), "extends past the end of the file");
  auto huge_offset = header(1, 0);
  huge_offset.tensor("t", {8}, 0, ~0ull - 31);
  EXPECT_BAD(finish(huge_offset, 64), "extends past the end of the file");
  auto overlap = header(2, 0);
  overlap.tensor("a", {16}, 0, 0).tensor("b", {16}, 0, 32);
  EXPECT_BAD(finish(overlap, 128), "tensor 'b' overlaps tensor 'a'");
  auto no_data = header(1, 0);
  no_data.tensor("t", {8}, 0, 0);
  EXPECT_BAD(no_data.bytes, "truncated");
}

// Cutting a real model anywhere in its header, and at many places in its
// data, must always be reported as a bad file.
TEST(GgufBadFiles, EveryTruncationOfARealModelIsABadFile) {
  int checked = 0;
  for (const char* model : {"stories260K.gguf", "TinyStories-656K-Q8_0.gguf", "llama-2-tiny-random.gguf"}) {
    const auto path = test::shared_model(model);
    if (path.empty()) continue;
    SCOPED_TRACE(model);
    const auto bytes = test::read_bytes(path);
    const GgufFile whole = read_buffer(bytes);
    // Every offset of a small header (and of the first 4 KiB of any), about
    // 2000 evenly spread offsets of a large one (each cut re-parses what
    // precedes it), and a stride through the tensor data.
    const size_t header_step = whole.data_offset <= 64 * 1024 ? 1 : whole.data_offset / 2000 + 1;
    std::vector<size_t> cuts;
    for (size_t n = 0; n < whole.data_offset; n += (n < 4096 ? 1 : header_step)) cuts.push_back(n);
    for (size_t n = whole.data_offset; n < bytes.size(); n += 4093) cuts.push_back(n);
    cuts.push_back(bytes.size() - 1);
    for (const size_t n : cuts) {
      try {
        read_buffer(std::span<const uint8_t>(bytes.data(), n), "cut.gguf");
        ADD_FAILURE() << "a cut at " << n << " of " << bytes.size() << " bytes was accepted";
        break;
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::BadFile) {
          ADD_FAILURE() << "cut at " << n << ": " << e.what();
          break;
        }
      }
    }
    checked += static_cast<int>(cuts.size());
  }
  if (checked == 0) GTEST_SKIP() << "no shared models in " << test::shared_models_dir();
}

TEST(GgufBadFiles, PathsThatAreNotGgufFiles) {
  const auto dir = test::temp_dir("gguf-bad");
  auto expect = [](const std::filesystem::path& p, ErrorKind kind, const std::string& needle) {
    try {
      read_file(p);
      ADD_FAILURE() << p << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      EXPECT_EQ(std::string(e.what()), p.string() + ": " + needle);
    }
  };
  expect(dir / "missing.gguf", ErrorKind::NotFound, "no such file");
  expect(dir, ErrorKind::BadFile, "is a directory, not a GGUF file");
  std::ofstream(dir / "empty.gguf").close();
  expect(dir / "empty.gguf", ErrorKind::BadFile, "file is empty, not a GGUF file");
  std::ofstream(dir / "notes.txt") << "# not a model\n";
  expect(dir / "notes.txt", ErrorKind::BadFile, "not a GGUF file (it does not start with 'GGUF')");
  test::GgufBuilder v1;
  v1.header(1, 0, 0);
  v1.write(dir / "v1.gguf");
  expect(dir / "v1.gguf", ErrorKind::BadFile, "GGUF version 1 is not supported (only versions 2 and 3 are)");
  RMM_REQUIRE_SHARED_MODEL(model, "stories260K.gguf");
  auto bytes = test::read_bytes(model);
  bytes.resize(bytes.size() / 2);
  test::GgufBuilder cut;
  cut.bytes = bytes;
  cut.write(dir / "half.gguf");
  try {
    read_file(dir / "half.gguf");
    ADD_FAILURE() << "half a model accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadFile);
    EXPECT_NE(std::string(e.what()).find("extends past the end of the file"), std::string::npos) << e.what();
  }
}

// A header that parses but describes nonsense must not break the estimate.
TEST(GgufBadFiles, EstimateOnAbsurdHyperparametersStaysFinite) {
  test::GgufBuilder g;
  g.header(3, 0, 8);
  g.kv_str("general.architecture", "llama");
  g.kv_u32("llama.block_count", 1024);
  g.kv_u32("llama.context_length", 4000000000u);
  g.kv_u32("llama.embedding_length", 4000000000u);
  g.kv_u32("llama.attention.head_count", 4000000000u);
  g.kv_u32("llama.feed_forward_length", 4000000000u);
  g.kv_u32("llama.vocab_size", 4000000000u);
  g.kv_u32("llama.attention.key_length", 4000000000u);
  const GgufFile f = read_buffer(g.bytes);
  const ModelInfo m = derive_model_info(f);
  const MemoryEstimate e = estimate_memory(f, m, MemoryParams{});
  EXPECT_GT(e.total(), 0u);
  EXPECT_LT(e.total(), ~0ull);
}

}  // namespace
}  // namespace rmm::gguf
