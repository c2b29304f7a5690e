#pragma once
// The forge's random numbers: integer-only generators, so that a seed gives
// the same weights on every machine and compiler, and every row of every
// tensor gets its own stream (the output does not depend on thread count).
#include <cstdint>

namespace rmm::forge {

// splitmix64's output function: a strong 64-bit mixer, used to derive seeds.
constexpr uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The seed of one row of one tensor.
constexpr uint64_t row_seed(uint64_t seed, uint64_t tensor_index, uint64_t row) {
  return mix64(mix64(seed ^ mix64(tensor_index)) + row);
}

// xoshiro256** (Blackman and Vigna), seeded through splitmix64 as its authors advise.
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed) {
    for (uint64_t& word : s_) {
      seed += 0x9e3779b97f4a7c15ull;
      word = mix64(seed);
    }
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // A bell-shaped value with mean 0 and standard deviation `stddev`: the sum
  // of four 16-bit uniforms (Irwin-Hall), exact in float and free of libm.
  float normalish(float stddev) {
    const uint64_t r = next();
    const int32_t sum =
        static_cast<int32_t>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
    // Four uniforms on [0, 65535] have mean 131070 and standard deviation 65536 / sqrt(3) (to within 0.01%).
    constexpr float kInvStd = 1.7320508f / 65536.0f;
    return static_cast<float>(sum - 131070) * (kInvStd * stddev);
  }

 private:
  static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace rmm::forge
