#include "gguf/alloc_sim.hpp"

#include <algorithm>
#include <limits>

namespace rmm::gguf {

namespace {

// Free space of one buffer: sorted, non-adjacent blocks; the last block is
// the unbounded space past everything allocated so far.
class FreeList {
 public:
  FreeList() { blocks_.push_back({0, kUnbounded}); }

  uint64_t alloc(uint64_t size) {
    // Best fit among the holes (every block but the last), smallest wins,
    // the later of equal-sized blocks as ggml's "<=" comparison picks it.
    size_t best = blocks_.size() - 1;
    uint64_t best_size = std::numeric_limits<uint64_t>::max();
    for (size_t i = 0; i + 1 < blocks_.size(); ++i) {
      if (blocks_[i].size >= size && blocks_[i].size <= best_size) {
        best = i;
        best_size = blocks_[i].size;
      }
    }
    Block& b = blocks_[best];
    const uint64_t offset = b.offset;
    b.offset += size;
    b.size -= size;
    if (b.size == 0) blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(best));
    high_water_ = std::max(high_water_, offset + size);
    return offset;
  }

  void free(uint64_t offset, uint64_t size) {
    const auto it = std::lower_bound(blocks_.begin(), blocks_.end(), offset,
                                     [](const Block& b, uint64_t off) { return b.offset < off; });
    size_t i = static_cast<size_t>(it - blocks_.begin());
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(i), Block{offset, size});
    // Merge with the following block, then with the preceding one.
    if (i + 1 < blocks_.size() && blocks_[i].offset + blocks_[i].size == blocks_[i + 1].offset) {
      blocks_[i].size =
          blocks_[i + 1].size == kUnbounded ? kUnbounded : blocks_[i].size + blocks_[i + 1].size;
      blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i + 1));
    }
    if (i > 0 && blocks_[i - 1].offset + blocks_[i - 1].size == blocks_[i].offset) {
      blocks_[i - 1].size =
          blocks_[i].size == kUnbounded ? kUnbounded : blocks_[i - 1].size + blocks_[i].size;
      blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  uint64_t high_water() const { return high_water_; }

 private:
  static constexpr uint64_t kUnbounded = std::numeric_limits<uint64_t>::max() / 2;
  struct Block {
    uint64_t offset;
    uint64_t size;
  };
  std::vector<Block> blocks_;
  uint64_t high_water_ = 0;
};

}  // namespace

AllocSim::Id AllocSim::add(Node node) {
  nodes_.push_back(std::move(node));
  return static_cast<Id>(nodes_.size() - 1);
}

AllocSim::Id AllocSim::input(uint64_t bytes) {
  Node n;
  n.bytes = bytes;
  n.is_input = true;
  return add(std::move(n));
}

AllocSim::Id AllocSim::op(uint64_t bytes, std::initializer_list<Id> srcs, bool inplace) {
  Node n;
  n.bytes = bytes;
  n.srcs.assign(srcs.begin(), srcs.end());
  n.inplace = inplace;
  return add(std::move(n));
}

AllocSim::Id AllocSim::view(Id src) {
  Node n;
  n.srcs = {src};
  n.is_view = true;
  // Like ggml's view_src, a view of a view aliases the original tensor.
  n.view_of = src;
  if (src != kExternal && nodes_[static_cast<size_t>(src)].is_view)
    n.view_of = nodes_[static_cast<size_t>(src)].view_of;
  return add(std::move(n));
}

AllocSim::Id AllocSim::store(std::initializer_list<Id> srcs) {
  Node n;
  n.srcs.assign(srcs.begin(), srcs.end());
  n.is_view = true;  // its result aliases the external destination
  return add(std::move(n));
}

uint64_t AllocSim::buffer_size() const {
  const size_t count = nodes_.size();
  std::vector<int> children(count, 0), views(count, 0);
  std::vector<bool> owned(count, false);
  std::vector<uint64_t> offset(count, 0);
  auto aligned = [&](uint64_t bytes) { return (bytes + alignment_ - 1) / alignment_ * alignment_; };

  for (const Node& n : nodes_) {
    if (n.is_view && n.view_of != kExternal) ++views[static_cast<size_t>(n.view_of)];
    for (const Id s : n.srcs) {
      if (s != kExternal) ++children[static_cast<size_t>(s)];
    }
  }

  FreeList space;
  auto release = [&](size_t t) {
    space.free(offset[t], aligned(nodes_[t].bytes));
    owned[t] = false;
  };

  for (size_t i = 0; i < count; ++i) {
    if (nodes_[i].is_input) {
      offset[i] = space.alloc(aligned(nodes_[i].bytes));
      owned[i] = true;
    }
  }

  for (size_t i = 0; i < count; ++i) {
    const Node& n = nodes_[i];
    if (n.is_input) continue;
    if (!n.is_view) {
      bool placed = false;
      if (n.inplace) {
        for (const Id s : n.srcs) {
          if (s == kExternal) continue;
          const auto p = static_cast<size_t>(s);
          // Views own no memory, so only a plain parent can be taken over.
          if (!owned[p] || nodes_[p].bytes != n.bytes || children[p] != 1 || views[p] != 0) continue;
          offset[i] = offset[p];
          owned[p] = false;
          placed = true;
          break;
        }
      }
      if (!placed) offset[i] = space.alloc(aligned(n.bytes));
      owned[i] = true;
    }
    for (const Id s : n.srcs) {
      if (s == kExternal) continue;
      const auto p = static_cast<size_t>(s);
      if (--children[p] != 0 || views[p] != 0) continue;
      if (nodes_[p].is_view) {
        if (nodes_[p].view_of == kExternal) continue;
        const auto root = static_cast<size_t>(nodes_[p].view_of);
        if (--views[root] == 0 && children[root] == 0 && owned[root]) release(root);
      } else if (owned[p]) {
        release(p);
      }
    }
  }
  return space.high_water();
}

}  // namespace rmm::gguf
