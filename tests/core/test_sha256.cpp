// SHA-256 against the FIPS 180-4 / NIST example vectors, plus padding
// boundaries (checked against Python's hashlib) and chunked updates.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "support/test_env.hpp"

using rmm::Sha256;
using rmm::sha256_hex;
using rmm::to_hex;

TEST(Sha256, SpecVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(
      sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
                 "opqrsmnopqrstnopqrstu"),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

std::string pattern(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += static_cast<char>((i * 7 + 3) % 256);
  return s;
}

TEST(Sha256, PaddingBoundaries) {
  // Lengths around the 56-byte point where the length no longer fits the last block.
  const std::pair<size_t, const char*> cases[] = {
      {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
      {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
      {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
      {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
      {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
      {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
      {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
      {127, "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07"},
      {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"}};
  for (const auto& [n, hex] : cases) EXPECT_EQ(sha256_hex(pattern(n)), hex) << n << " bytes";
}

TEST(Sha256, ChunkedUpdatesMatchOneShot) {
  const std::string data = pattern(300);
  const std::string whole = sha256_hex(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    Sha256 h;
    h.update(std::string_view(data).substr(0, split));
    h.update(std::string_view(data).substr(split));
    ASSERT_EQ(to_hex(h.finish()), whole) << "split at " << split;
  }
  Sha256 bytewise;
  for (char c : data) bytewise.update(&c, 1);
  EXPECT_EQ(to_hex(bytewise.finish()), whole);
}

TEST(Sha256, File) {
  const auto dir = rmm::test::temp_dir("sha256");
  const auto path = dir / "a.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(1000000, 'a');
  }
  EXPECT_EQ(rmm::sha256_file_hex(path), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  try {
    rmm::sha256_file_hex(dir / "missing.gguf");
    FAIL() << "no error for a missing file";
  } catch (const rmm::Error& e) {
    EXPECT_EQ(e.kind(), rmm::ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("missing.gguf"), std::string::npos) << e.what();
  }
  EXPECT_THROW(rmm::sha256_file_hex(path, [] { return false; }), rmm::Error);
}
