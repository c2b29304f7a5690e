#include "gguf/byte_source.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.hpp"

namespace rmm::gguf {

namespace {

[[noreturn]] void throw_truncated(uint64_t pos, uint64_t wanted, uint64_t size) {
  throw Error(ErrorKind::BadFile, "file is truncated: needs " + std::to_string(wanted) +
                                      " more bytes at offset " + std::to_string(pos) + " but it ends at " +
                                      std::to_string(size));
}

}  // namespace

void ByteSource::read(void* dst, size_t n) {
  if (n > remaining()) throw_truncated(pos_, n, size_);
  auto* out = static_cast<uint8_t*>(dst);
  while (n > 0) {
    if (pos_ < window_pos_ || pos_ >= window_pos_ + window_.size()) load_window(pos_);
    const uint64_t offset = pos_ - window_pos_;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, window_.size() - offset));
    std::memcpy(out, window_.data() + offset, take);
    out += take;
    n -= take;
    pos_ += take;
  }
}

void ByteSource::skip(uint64_t n) {
  if (n > remaining()) throw_truncated(pos_, n, size_);
  pos_ += n;
}

MemorySource::MemorySource(std::span<const uint8_t> data) : ByteSource(data.size()), data_(data) {
  window_ = data_;
  window_pos_ = 0;
}

void MemorySource::load_window(uint64_t /*pos*/) {
  // The whole buffer is the window; read() only asks for offsets inside it.
  window_ = data_;
  window_pos_ = 0;
}

FileSource::FileSource(std::ifstream& stream, uint64_t size) : ByteSource(size), stream_(stream) {}

void FileSource::load_window(uint64_t pos) {
  const size_t want = static_cast<size_t>(std::min<uint64_t>(kWindowBytes, size() - pos));
  buffer_.resize(want);
  stream_.clear();
  stream_.seekg(static_cast<std::streamoff>(pos));
  stream_.read(reinterpret_cast<char*>(buffer_.data()), static_cast<std::streamsize>(want));
  const auto got = static_cast<size_t>(std::max<std::streamsize>(stream_.gcount(), 0));
  if (got == 0) {
    // The file shrank after we measured it, or the read failed.
    throw Error(ErrorKind::BadFile, "read failed at offset " + std::to_string(pos));
  }
  buffer_.resize(got);
  window_ = buffer_;
  window_pos_ = pos;
}

}  // namespace rmm::gguf
