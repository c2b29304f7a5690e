#pragma once
// SHA-256 (FIPS 180-4), for cache keys and model file fingerprints. Written
// from the standard; no dependency on a crypto library for one hash function.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace rmm {

class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;

  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // The digest of everything given so far. The object is spent afterwards.
  Digest finish();

 private:
  void block(const uint8_t* p);

  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;  // bytes
};

std::string to_hex(const Sha256::Digest& d);
std::string sha256_hex(std::string_view data);

// The hex digest of a file's contents, read in large chunks. `keep_going` is
// asked between chunks; false stops early with rmm::Error(Cancelled).
// Throws rmm::Error(NotFound / Internal) naming the file when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path, const std::function<bool()>& keep_going = {});

}  // namespace rmm
