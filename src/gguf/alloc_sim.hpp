#pragma once
// Replays how ggml's graph allocator (ggml-alloc.c) lays out a compute graph,
// to predict the size of llama.cpp's compute buffer without building the
// graph. The rules mirrored here:
//  - graph inputs are allocated first and live until their last consumer ran;
//  - every other tensor is allocated when its op runs and freed after its last
//    consumer (or the last consumer of a view of it) ran;
//  - ops that ggml can run in place (norms, element-wise ops, rope, softmax)
//    reuse the memory of a same-sized parent that has no other consumer;
//  - free space is handed out best-fit, else from the end of the buffer, with
//    every size rounded up to the buffer alignment, so holes left by freed
//    tensors count: the result is the high-water mark, not the live maximum.
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace rmm::gguf {

class AllocSim {
 public:
  using Id = int;
  static constexpr Id kExternal = -1;  // a tensor in another buffer (weights, KV cache)

  explicit AllocSim(uint64_t alignment = 32) : alignment_(alignment) {}

  // A graph input (token ids, positions, masks, index tensors).
  Id input(uint64_t bytes);
  // An op producing `bytes`; `inplace` when ggml may run it in place.
  Id op(uint64_t bytes, std::initializer_list<Id> srcs, bool inplace = false);
  // A view (reshape, permute, ...) of `src`: no memory of its own.
  Id view(Id src);
  // An op whose result is a view of an external tensor (a store into the KV cache).
  Id store(std::initializer_list<Id> srcs);

  // Runs the allocation and returns the buffer size it needs.
  uint64_t buffer_size() const;

 private:
  struct Node {
    uint64_t bytes = 0;
    std::vector<Id> srcs;
    bool is_input = false;
    bool inplace = false;
    Id view_of = kExternal;  // the tensor a view aliases (through other views)
    bool is_view = false;
  };
  Id add(Node node);

  uint64_t alignment_;
  std::vector<Node> nodes_;
};

}  // namespace rmm::gguf
