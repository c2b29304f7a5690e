#pragma once
// Short model names like "qwen2.5-0.5b-instruct:q4_k_m": the model's name
// (general.name, else the file name) and its quantization, lowercase, made
// of [a-z0-9._+-] so that they are safe in URLs, shells and file names.
// Names and aliases never contain path separators or "..": anything that
// does is a path, not a name.
#include <functional>
#include <string>

namespace rmm::models {

// "Qwen2.5-0.5B-Instruct-Q4_K_M" (the file name without extension or split
// suffix) + "Q4_K_M" → "qwen2.5-0.5b-instruct:q4_k_m": a trailing
// quantization in the stem is not repeated. `general_name` is used when the
// stem says nothing ("model", "ggml-model"). `suffix` ("mmproj", ...) is
// appended to the base unless it is already in it.
std::string short_name_candidate(const std::string& general_name, const std::string& stem,
                                 const std::string& quantization, const std::string& suffix = "");

// The candidate itself when `taken` says it is free, else "base-2:quant",
// "base-3:quant", ...
std::string unique_short_name(const std::string& candidate,
                              const std::function<bool(const std::string&)>& taken);

// InvalidArgument naming `what` unless `name` can be a model name or alias:
// 1-128 bytes of valid UTF-8 without '/', '\\', "..", whitespace or control
// characters.
void check_name(const std::string& name, const std::string& what);
bool looks_like_path(const std::string& name);  // has '/', '\\' or ".."

}  // namespace rmm::models
