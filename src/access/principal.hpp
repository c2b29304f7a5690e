#pragma once
// Who a request comes from, once authenticated: a key (its name, scope and
// model patterns) or, on a server without keys, the open loopback user.
#include <cstdint>
#include <string>
#include <vector>

#include "access/api_key.hpp"

namespace rmm::access {

// Per-client limits; 0 = unlimited.
struct Limits {
  int64_t requests_per_minute = 0;
  int64_t tokens_per_minute = 0;  // prompt + generated
  int64_t max_streams = 0;        // generations running at once
};

struct Principal {
  int64_t key_id = 0;    // 0: the server has no keys
  std::string key_name;  // "" without keys
  Scope scope = Scope::Admin;
  std::vector<std::string> models;  // glob patterns; empty = every model
  Limits limits;
  // Rate limits are kept per key, or per client address without keys.
  std::string bucket;

  bool has_key() const { return key_id != 0; }
  bool allows(Scope needed) const { return static_cast<int>(scope) >= static_cast<int>(needed); }
  // True when any of the model's names (short name, aliases, file stem) matches a pattern.
  bool may_use_model(const std::vector<std::string>& names) const;
  // The chat history owner of what this principal creates ("" without keys).
  std::string owner() const { return key_id ? std::to_string(key_id) : std::string(); }
  // Admin keys and servers without keys see every conversation; other keys their own.
  bool sees_all_history() const { return !has_key() || scope == Scope::Admin; }
};

}  // namespace rmm::access
