#pragma once
// A registry over a fresh SQLite store and models dir in a temp dir, and
// tiny GGUF files written byte by byte (only metadata matters to the index).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "models/registry.hpp"
#include "store/store.hpp"

namespace rmm::test {

struct MetaValue {
  bool is_string = true;
  std::string s;
  uint32_t u = 0;
  bool is_u16 = false;  // split.no and split.count are uint16
};
using Meta = std::map<std::string, MetaValue>;
inline MetaValue str(const std::string& s) { return {true, s, 0}; }
inline MetaValue u32(uint32_t u) { return {false, "", u}; }
inline MetaValue u16(uint16_t u) { return {false, "", u, true}; }

// A GGUF v3 file with these metadata keys and no tensors.
void write_gguf(const std::filesystem::path& file, const Meta& meta);
// A llama-architecture file with general.file_type `file_type` (15 = Q4_K_M).
void write_llama(const std::filesystem::path& file, uint32_t file_type = 15, const std::string& name = "");

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // The model with this short name, or a failure.
  store::ModelRecord named(const std::string& short_name);

  std::filesystem::path dir_;
  std::filesystem::path models_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<models::Registry> registry_;
};

}  // namespace rmm::test
