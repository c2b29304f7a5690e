#pragma once
// The messages between `rmm serve` and its model workers, and their bytes.
// A frame is: u32 payload length, u8 message type, payload. Both ends are the
// same binary on the same machine, so numbers go in host byte order; every
// read is bounds-checked, because a worker that dies mid-write leaves a torn
// frame and a decoder must never trust a length it was sent.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "engine/batch_engine.hpp"
#include "engine/generation.hpp"

namespace rmm::worker {

inline constexpr uint32_t kMaxFrame = 64u << 20;  // a 128k-token prompt with a grammar is far below

enum class MsgType : uint8_t {
  // server → worker
  Init = 1,       // LoadRequest: load this model, then serve it
  Submit = 2,     // id + GenerateRequest
  Cancel = 3,     // id
  CancelAll = 4,  // (empty)
  // worker → server
  Progress = 20,    // f32 0..1 while loading
  Ready = 21,       // WorkerInfo: loaded, serving
  LoadFailed = 22,  // ErrorKind + message; the worker exits after it
  Token = 23,       // id + TokenEvent
  Done = 24,        // id + GenerationResult (exactly once per submitted id)
  Alive = 25,       // (empty) the engine finished a step that sent nothing else for a while
};

struct LoadRequest {
  std::string model_id;  // for the worker's log lines
  std::string path;
  int gpu_layers = -1;
  std::string gpu_device;  // see engine::LoadParams
  bool mmap = true;
  engine::ContextParams context;
};

struct WorkerInfo {
  engine::ContextShape shape;
  std::string description;  // llama.cpp's, e.g. "llama 8B Q4_K - Medium"
};

class Writer {
 public:
  explicit Writer(MsgType type);
  void u8(uint8_t v) { raw(&v, 1); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void i32(int32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f32(float v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(std::string_view s);
  void strs(const std::vector<std::string>& v);
  void tokens(const std::vector<engine::Token>& v);
  // The finished frame (length filled in). Throws Internal past kMaxFrame.
  std::string finish() &&;

 private:
  void raw(const void* p, size_t n) {
    if (n) bytes_.append(static_cast<const char*>(p), n);  // an empty list's data() may be null
  }
  std::string bytes_;
};

// Reads one frame's payload. Every getter throws rmm::Error(Internal) naming
// what was cut short or out of range.
class Reader {
 public:
  explicit Reader(std::string_view payload) : p_(payload) {}
  uint8_t u8();
  bool boolean();
  uint32_t u32();
  int32_t i32();
  uint64_t u64();
  int64_t i64();
  float f32();
  double f64();
  std::string str();
  std::vector<std::string> strs();
  std::vector<engine::Token> tokens();
  // Throws unless the whole payload was read.
  void end() const;

 private:
  void raw(void* out, size_t n);
  size_t count(size_t item_size);  // a length prefix, checked against what is left
  std::string_view p_;
  size_t at_ = 0;
};

// Splits a byte stream into frames: feed what was read, take whole frames.
class FrameReader {
 public:
  void feed(const char* data, size_t n) { buf_.append(data, n); }
  // The next whole frame, or false when more bytes are needed. Throws
  // rmm::Error(Internal) for a length past kMaxFrame or an empty frame.
  bool next(MsgType& type, std::string& payload);

 private:
  std::string buf_;
  size_t at_ = 0;
};

std::string encode(const LoadRequest& r);
LoadRequest decode_load(Reader& r);
std::string encode(const WorkerInfo& i);
WorkerInfo decode_info(Reader& r);
std::string encode_submit(uint64_t id, const engine::GenerateRequest& req);
engine::GenerateRequest decode_request(Reader& r);  // after the id
std::string encode_token(uint64_t id, const engine::TokenEvent& ev);
engine::TokenEvent decode_token(Reader& r);  // after the id
std::string encode_done(uint64_t id, const engine::GenerationResult& res);
engine::GenerationResult decode_done(Reader& r);   // after the id
std::string encode_id(MsgType type, uint64_t id);  // Cancel
std::string encode_empty(MsgType type);            // CancelAll
std::string encode_error(MsgType type, ErrorKind kind, const std::string& message);
Error decode_error(Reader& r);
std::string encode_progress(float p);

}  // namespace rmm::worker
