#pragma once
// Sequential little-endian reads over a file or a memory buffer, so that the
// GGUF parser runs the same code on disk files and on fuzzer inputs. Files are
// read through a window buffer: parsing a 128k-token vocabulary takes
// thousands of small reads and skips, not thousands of system calls.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <vector>

namespace rmm::gguf {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  uint64_t size() const { return size_; }
  uint64_t position() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  // Copies the next n bytes; throws rmm::Error(BadFile) when fewer remain.
  void read(void* dst, size_t n);
  // Moves past the next n bytes; throws rmm::Error(BadFile) when fewer remain.
  void skip(uint64_t n);

 protected:
  explicit ByteSource(uint64_t size) : size_(size) {}
  // Makes window_ hold bytes starting at file offset `pos` (at least one byte
  // when pos < size). window_pos_ is the file offset of window_[0].
  virtual void load_window(uint64_t pos) = 0;

  std::span<const uint8_t> window_;
  uint64_t window_pos_ = 0;

 private:
  uint64_t size_;
  uint64_t pos_ = 0;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::span<const uint8_t> data);

 protected:
  void load_window(uint64_t pos) override;

 private:
  std::span<const uint8_t> data_;
};

class FileSource final : public ByteSource {
 public:
  // `stream` must be open in binary mode and `size` its length in bytes.
  FileSource(std::ifstream& stream, uint64_t size);

 protected:
  void load_window(uint64_t pos) override;

 private:
  static constexpr size_t kWindowBytes = 1 << 20;
  std::ifstream& stream_;
  std::vector<uint8_t> buffer_;
};

}  // namespace rmm::gguf
