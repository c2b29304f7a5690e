#pragma once
// A GGUF metadata value. Arrays keep their element type, their full count and
// only their first elements (`head`): a tokenizer's 128k-entry token list is
// counted, not stored.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rmm::gguf {

// The type ids as written in the file (GGUF spec, "gguf_metadata_value_type").
enum class ValueType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

// Names as the GGUF spec spells them: "uint8", ..., "string", "array".
const char* value_type_name(ValueType type);
bool is_valid_value_type(uint32_t raw);
bool is_integer_type(ValueType type);
// Bytes one element of a fixed-size type occupies in the file; 0 for strings and arrays.
uint64_t fixed_value_size(ValueType type);

struct Value {
  ValueType type = ValueType::UInt8;

  // Scalars: the field matching `type` is set (unsigned types in `u`, signed in
  // `i`, both float types in `f`).
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  std::string s;               // String: the text, at most kMaxKeptStringBytes of it
  uint64_t string_length = 0;  // String: the full length in the file

  // Array: element type, element count in the file and the first elements.
  ValueType elem_type = ValueType::UInt8;
  uint64_t count = 0;
  std::vector<Value> head;

  bool is_integer() const { return is_integer_type(type); }
  bool is_array() const { return type == ValueType::Array; }
  bool string_truncated() const { return type == ValueType::String && s.size() < string_length; }
  // Integer value as int64 (uint64 above INT64_MAX gives nullopt); nullopt for non-integers.
  std::optional<int64_t> as_int() const;
  // Integer or float value as double; nullopt for other types.
  std::optional<double> as_number() const;
};

// Strings longer than this keep only their start (some files embed a whole
// tokenizer.json); arrays keep this many elements, more for numeric ones
// because per-layer hyperparameters (head counts, FFN sizes) are arrays.
inline constexpr uint64_t kMaxKeptStringBytes = 16ull << 20;
inline constexpr uint64_t kArrayHeadNumeric = 1024;
inline constexpr uint64_t kArrayHeadOther = 16;

}  // namespace rmm::gguf
