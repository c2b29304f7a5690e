#pragma once
// UTF-8 helpers for streaming: token pieces can end in the middle of a
// multi-byte character, and such a tail must wait for the next token.
#include <cstddef>
#include <string>
#include <string_view>

namespace rmm::utf8 {

// Length of the longest prefix of `s` that does not end inside an incomplete
// (but so far valid) multi-byte sequence. Invalid bytes count as complete so
// that garbage never blocks the stream forever.
size_t complete_prefix_length(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values over U+10FFFF).
bool is_valid(std::string_view s);

// Copy of `s` with each invalid or unfinished sequence replaced by U+FFFD.
std::string sanitize(std::string_view s);

}  // namespace rmm::utf8
