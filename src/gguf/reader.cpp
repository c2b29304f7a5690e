#include "gguf/reader.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <system_error>
#include <unordered_set>

#include "core/error.hpp"
#include "gguf/byte_source.hpp"
#include "gguf/tensor_types.hpp"

namespace rmm::gguf {

namespace {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

[[noreturn]] void fail(const std::string& problem) { throw Error(ErrorKind::BadFile, problem); }

std::string printable(std::string_view s) {
  // Keys and names come from the file: keep messages one printable line.
  std::string out = "'";
  for (const char c : s.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  if (s.size() > 80) out += "...";
  return out + "'";
}

// Overflow-checked a*b; false when it does not fit in 64 bits.
bool mul_u64(uint64_t a, uint64_t b, uint64_t& out) { return !__builtin_mul_overflow(a, b, &out); }
bool add_u64(uint64_t a, uint64_t b, uint64_t& out) { return !__builtin_add_overflow(a, b, &out); }

class Parser {
 public:
  explicit Parser(ByteSource& src) : src_(src) {}

  GgufFile parse() {
    GgufFile file;
    file.file_size = src_.size();
    read_header(file);
    read_metadata(file);
    read_alignment(file);
    read_tensor_infos(file);
    check_tensor_data(file);
    return file;
  }

 private:
  template <typename T>
  T read_scalar() {
    T v;
    src_.read(&v, sizeof v);
    return v;
  }

  void read_header(GgufFile& file) {
    if (src_.size() == 0) fail("file is empty, not a GGUF file");
    if (src_.size() < 4)
      fail("file is too small to be a GGUF file (" + std::to_string(src_.size()) + " bytes)");
    char magic[4];
    src_.read(magic, 4);
    if (std::memcmp(magic, "GGUF", 4) != 0) {
      // The bytes found are not quoted: errors reach HTTP clients, and a file's contents are not theirs.
      fail("not a GGUF file (it does not start with 'GGUF')");
    }
    if (src_.remaining() < 4) fail("file is truncated inside the GGUF header");
    file.version = read_scalar<uint32_t>();
    if (file.version == 1) fail("GGUF version 1 is not supported (only versions 2 and 3 are)");
    if (file.version != 2 && file.version != 3) {
      if ((file.version & 0xffffu) == 0) {
        fail("GGUF version " + std::to_string(file.version) +
             " looks byte-swapped: big-endian GGUF files are not supported");
      }
      fail("unsupported GGUF version " + std::to_string(file.version) +
           " (only versions 2 and 3 are supported)");
    }
    if (src_.remaining() < 8 + 8) fail("file is truncated inside the GGUF header");
    n_tensors_ = read_scalar<uint64_t>();
    n_kv_ = read_scalar<uint64_t>();
    // The smallest key-value pair takes 14 bytes (8-byte length, 1-byte key,
    // 4-byte type, 1-byte value); the smallest tensor info 24 (8-byte length,
    // empty name, 4-byte n_dims, no dims, 4-byte type, 8-byte offset).
    if (n_kv_ > kMaxKeyValues || n_kv_ > src_.remaining() / 14) {
      fail("header claims " + std::to_string(n_kv_) + " metadata entries, more than the file can hold");
    }
    if (n_tensors_ > kMaxTensors || n_tensors_ > src_.remaining() / 24) {
      fail("header claims " + std::to_string(n_tensors_) + " tensors, more than the file can hold");
    }
    if (n_kv_ * 14 + n_tensors_ * 24 > src_.remaining()) {
      fail("header claims " + std::to_string(n_kv_) + " metadata entries and " + std::to_string(n_tensors_) +
           " tensors, more than the file can hold");
    }
  }

  // A length-prefixed string, named `what` + `subject` in errors (built only
  // then: this runs for every token of a vocabulary). Keeps at most `keep`
  // bytes and skips the rest.
  std::string read_string(std::string_view what, const std::string& subject, uint64_t max_len, uint64_t keep,
                          uint64_t* full_len = nullptr) {
    auto name = [&] { return std::string(what) + subject; };
    if (src_.remaining() < 8) fail("file is truncated in the length of " + name());
    const auto len = read_scalar<uint64_t>();
    if (len > max_len) {
      fail(name() + " is " + std::to_string(len) + " bytes long, more than the limit of " +
           std::to_string(max_len));
    }
    if (len > src_.remaining()) {
      fail(name() + " is " + std::to_string(len) + " bytes long but only " +
           std::to_string(src_.remaining()) + " bytes remain in the file");
    }
    if (full_len) *full_len = len;
    std::string s(static_cast<size_t>(std::min(len, keep)), '\0');
    src_.read(s.data(), s.size());
    src_.skip(len - s.size());
    return s;
  }

  void read_metadata(GgufFile& file) {
    std::unordered_set<std::string> seen;
    file.metadata.reserve(static_cast<size_t>(n_kv_));
    for (uint64_t i = 0; i < n_kv_; ++i) {
      KeyValue kv;
      kv.key = read_string("the key of metadata entry ", std::to_string(i), kMaxKeyBytes, kMaxKeyBytes);
      if (kv.key.empty()) fail("the key of metadata entry " + std::to_string(i) + " is empty");
      if (!seen.insert(kv.key).second) fail("duplicate metadata key " + printable(kv.key));
      const std::string ctx = "key " + printable(kv.key);
      if (src_.remaining() < 4) fail("file is truncated in the type of " + ctx);
      const auto raw_type = read_scalar<uint32_t>();
      if (!is_valid_value_type(raw_type))
        fail(ctx + " has an invalid value type " + std::to_string(raw_type));
      kv.value = read_value(static_cast<ValueType>(raw_type), ctx, 0, true);
      file.metadata.push_back(std::move(kv));
    }
  }

  // Reads one value of `type`. With store=false the value is only skipped
  // (array elements past the kept head).
  Value read_value(ValueType type, const std::string& ctx, int depth, bool store) {
    Value v;
    v.type = type;
    const uint64_t fixed = fixed_value_size(type);
    if (fixed > 0) {
      if (src_.remaining() < fixed) fail("file is truncated in the value of " + ctx);
      if (!store) {
        src_.skip(fixed);
        return v;
      }
      switch (type) {
        case ValueType::UInt8: v.u = read_scalar<uint8_t>(); break;
        case ValueType::Int8: v.i = read_scalar<int8_t>(); break;
        case ValueType::UInt16: v.u = read_scalar<uint16_t>(); break;
        case ValueType::Int16: v.i = read_scalar<int16_t>(); break;
        case ValueType::UInt32: v.u = read_scalar<uint32_t>(); break;
        case ValueType::Int32: v.i = read_scalar<int32_t>(); break;
        case ValueType::UInt64: v.u = read_scalar<uint64_t>(); break;
        case ValueType::Int64: v.i = read_scalar<int64_t>(); break;
        case ValueType::Float32: v.f = read_scalar<float>(); break;
        case ValueType::Float64: v.f = read_scalar<double>(); break;
        case ValueType::Bool: {
          const auto raw = read_scalar<uint8_t>();
          if (raw > 1) fail(ctx + " has an invalid bool value " + std::to_string(raw));
          v.b = raw != 0;
          break;
        }
        default: break;
      }
      return v;
    }
    if (type == ValueType::String) {
      v.s = read_string("the string value of ", ctx, std::numeric_limits<uint64_t>::max(),
                        store ? kMaxKeptStringBytes : 0, &v.string_length);
      return v;
    }
    read_array(v, ctx, depth, store);
    return v;
  }

  void read_array(Value& v, const std::string& ctx, int depth, bool store) {
    if (depth >= kMaxArrayDepth)
      fail(ctx + " has arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep");
    if (src_.remaining() < 12) fail("file is truncated in the array header of " + ctx);
    const auto raw_type = read_scalar<uint32_t>();
    if (!is_valid_value_type(raw_type))
      fail(ctx + " is an array of invalid type " + std::to_string(raw_type));
    v.elem_type = static_cast<ValueType>(raw_type);
    v.count = read_scalar<uint64_t>();
    const uint64_t fixed = fixed_value_size(v.elem_type);
    // Strings need at least their 8-byte length, arrays their 12-byte header.
    const uint64_t min_elem = fixed > 0 ? fixed : (v.elem_type == ValueType::String ? 8 : 12);
    if (v.count > src_.remaining() / min_elem) {
      fail(ctx + " claims " + std::to_string(v.count) + " " + value_type_name(v.elem_type) +
           " elements, more than the remaining " + std::to_string(src_.remaining()) + " bytes can hold");
    }
    // Only top-level numeric arrays keep a long head, so nested arrays cannot
    // multiply what is kept.
    const uint64_t keep_limit = fixed > 0 && depth == 0 ? kArrayHeadNumeric : kArrayHeadOther;
    const uint64_t keep = store ? std::min(v.count, keep_limit) : 0;
    v.head.reserve(static_cast<size_t>(keep));
    for (uint64_t k = 0; k < keep; ++k) v.head.push_back(read_value(v.elem_type, ctx, depth + 1, true));
    const uint64_t rest = v.count - keep;
    if (fixed > 0) {
      src_.skip(rest * fixed);  // cannot overflow: rest * fixed <= remaining
    } else {
      for (uint64_t k = 0; k < rest; ++k) read_value(v.elem_type, ctx, depth + 1, false);
    }
  }

  void read_alignment(GgufFile& file) {
    const Value* a = file.find("general.alignment");
    if (!a) return;
    if (a->type != ValueType::UInt32) {
      fail("general.alignment has type " + std::string(value_type_name(a->type)) + ", expected uint32");
    }
    if (a->u == 0 || (a->u & (a->u - 1)) != 0) {
      fail("general.alignment is " + std::to_string(a->u) + ", not a power of 2");
    }
    file.alignment = a->u;
  }

  void read_tensor_infos(GgufFile& file) {
    std::unordered_set<std::string> seen;
    file.tensors.reserve(static_cast<size_t>(n_tensors_));
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      TensorInfo t;
      t.name =
          read_string("the name of tensor ", std::to_string(i), kMaxTensorNameBytes, kMaxTensorNameBytes);
      if (!seen.insert(t.name).second) fail("duplicate tensor name " + printable(t.name));
      const std::string ctx = "tensor " + printable(t.name);
      if (src_.remaining() < 4) fail("file is truncated in the shape of " + ctx);
      t.n_dims = read_scalar<uint32_t>();
      if (t.n_dims > 4)
        fail(ctx + " has " + std::to_string(t.n_dims) + " dimensions, at most 4 are supported");
      if (src_.remaining() < 8ull * t.n_dims + 4 + 8) fail("file is truncated in the info of " + ctx);
      for (uint32_t d = 0; d < t.n_dims; ++d) {
        t.ne[d] = read_scalar<uint64_t>();
        if (t.ne[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          fail(ctx + " has an invalid size " + std::to_string(t.ne[d]) + " in dimension " +
               std::to_string(d));
        }
      }
      t.type = read_scalar<uint32_t>();
      t.offset = read_scalar<uint64_t>();

      const auto traits = tensor_type_traits(t.type);
      if (!traits) fail(ctx + " has an unknown tensor type id " + std::to_string(t.type));
      uint64_t n = 1;
      for (const uint64_t e : t.ne) {
        if (!mul_u64(n, e, n) || n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          fail(ctx + " has too many elements (the element count overflows)");
        }
      }
      t.n_elements = n;
      if (t.ne[0] % traits->block_size != 0) {
        fail(ctx + " of type " + traits->name + " has " + std::to_string(t.ne[0]) +
             " elements per row, not a multiple of the block size " + std::to_string(traits->block_size));
      }
      uint64_t bytes = t.ne[0] / traits->block_size;
      for (int d = 1; d < 4 && bytes != 0; ++d) {
        if (!mul_u64(bytes, t.ne[d], bytes)) fail(ctx + " is too large (its byte size overflows)");
      }
      if (!mul_u64(bytes, traits->type_size, bytes)) fail(ctx + " is too large (its byte size overflows)");
      t.n_bytes = bytes;
      file.tensors.push_back(std::move(t));
    }
  }

  void check_tensor_data(GgufFile& file) {
    const uint64_t pos = src_.position();
    const uint64_t pad = (file.alignment - pos % file.alignment) % file.alignment;
    file.data_offset = pos + pad;
    if (file.tensors.empty()) return;
    if (file.data_offset > file.file_size) fail("file is truncated before its tensor data section");

    // Sorted by offset, each tensor must be aligned, end inside the file and
    // not overlap the next one.
    std::vector<const TensorInfo*> by_offset;
    by_offset.reserve(file.tensors.size());
    for (const auto& t : file.tensors) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
    const uint64_t data_size = file.file_size - file.data_offset;
    uint64_t prev_end = 0;
    const TensorInfo* prev = nullptr;
    for (const TensorInfo* t : by_offset) {
      const std::string ctx = "tensor " + printable(t->name);
      if (t->offset % file.alignment != 0) {
        fail(ctx + " has offset " + std::to_string(t->offset) + ", not a multiple of the alignment " +
             std::to_string(file.alignment));
      }
      uint64_t end = 0;
      if (!add_u64(t->offset, t->n_bytes, end) || end > data_size) {
        fail(ctx + " data (" + std::to_string(t->n_bytes) + " bytes at data offset " +
             std::to_string(t->offset) +
             ") extends past the end of the file: the file is truncated or corrupt");
      }
      if (prev && t->offset < prev_end) fail(ctx + " overlaps tensor " + printable(prev->name));
      prev = t;
      prev_end = end;
    }
  }

  ByteSource& src_;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
};

GgufFile parse_named(ByteSource& src, const std::string& name) {
  try {
    GgufFile file = Parser(src).parse();
    file.name = name;
    return file;
  } catch (const Error& e) {
    throw Error(e.kind(), name + ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw Error(ErrorKind::BadFile, name + ": out of memory while reading the GGUF header");
  }
}

}  // namespace

const Value* GgufFile::find(std::string_view key) const {
  for (const auto& kv : metadata) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

const TensorInfo* GgufFile::find_tensor(std::string_view tensor_name) const {
  for (const auto& t : tensors) {
    if (t.name == tensor_name) return &t;
  }
  return nullptr;
}

GgufFile read_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    if (ec && ec != std::errc::no_such_file_or_directory) {
      throw Error(ErrorKind::BadFile, name + ": cannot access: " + ec.message());
    }
    throw Error(ErrorKind::NotFound, name + ": no such file");
  }
  if (std::filesystem::is_directory(status))
    throw Error(ErrorKind::BadFile, name + ": is a directory, not a GGUF file");
  if (!std::filesystem::is_regular_file(status))
    throw Error(ErrorKind::BadFile, name + ": not a regular file");
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(ErrorKind::BadFile, name + ": cannot read the file size: " + ec.message());
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw Error(ErrorKind::BadFile, name + ": cannot open the file for reading");
  FileSource src(stream, size);
  return parse_named(src, name);
}

GgufFile read_buffer(std::span<const uint8_t> data, const std::string& name) {
  MemorySource src(data);
  return parse_named(src, name);
}

}  // namespace rmm::gguf
