#pragma once
// Writes GGUF images byte by byte, so tests can craft valid and hostile
// files without any GGUF library (the reader under test must not check
// itself).
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace rmm::test {

class GgufBuilder {
 public:
  std::vector<uint8_t> bytes;

  GgufBuilder& raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
    return *this;
  }
  GgufBuilder& u8(uint8_t v) { return raw(&v, 1); }
  GgufBuilder& u16(uint16_t v) { return raw(&v, 2); }
  GgufBuilder& u32(uint32_t v) { return raw(&v, 4); }
  GgufBuilder& i32(int32_t v) { return raw(&v, 4); }
  GgufBuilder& u64(uint64_t v) { return raw(&v, 8); }
  GgufBuilder& i64(int64_t v) { return raw(&v, 8); }
  GgufBuilder& f32(float v) { return raw(&v, 4); }
  GgufBuilder& f64(double v) { return raw(&v, 8); }
  GgufBuilder& str(const std::string& s) { return u64(s.size()).raw(s.data(), s.size()); }

  // "GGUF", version, tensor count, key-value count.
  GgufBuilder& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    return raw("GGUF", 4).u32(version).u64(n_tensors).u64(n_kv);
  }
  // Key and type id; the caller writes the value.
  GgufBuilder& key(const std::string& k, uint32_t type) { return str(k).u32(type); }
  GgufBuilder& kv_u32(const std::string& k, uint32_t v) { return key(k, 4).u32(v); }
  GgufBuilder& kv_str(const std::string& k, const std::string& v) { return key(k, 8).str(v); }
  // A tensor info: name, dims, ggml type, offset in the data section.
  GgufBuilder& tensor(const std::string& name, const std::vector<uint64_t>& ne, uint32_t type,
                      uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (const uint64_t e : ne) u64(e);
    return u32(type).u64(offset);
  }
  // Zero bytes up to the next multiple of `alignment`.
  GgufBuilder& align(size_t alignment = 32) {
    while (bytes.size() % alignment != 0) bytes.push_back(0);
    return *this;
  }
  GgufBuilder& zeros(size_t n) {
    bytes.insert(bytes.end(), n, 0);
    return *this;
  }

  void write(const std::filesystem::path& path) const {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
};

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace rmm::test
