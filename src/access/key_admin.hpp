#pragma once
// Creating, listing and revoking keys, and the JSON shapes of keys and audit
// entries: one implementation for `rmm keys` / `rmm audit` and /api/keys /
// /api/audit, so that both say the same things the same way.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace rmm::access {

struct KeySpec {
  std::string name;
  std::string scope = "generate";
  std::vector<std::string> models;  // glob patterns; empty = every model
  int64_t expires_in_ms = 0;        // 0 = never
  int64_t requests_per_minute = -1, tokens_per_minute = -1, max_streams = -1;  // -1: server default
};

struct NewKey {
  std::string key;  // shown once
  store::ApiKeyRecord record;
};

// Validates the spec (rmm::Error(InvalidArgument) naming the field) and stores a fresh key.
NewKey create_key(store::KeyStore& store, const KeySpec& spec);

// A key as JSON: everything but the hash, with "active" and ISO-8601-free unix ms times.
nlohmann::json key_json(const store::ApiKeyRecord& k, int64_t now_ms);
nlohmann::json audit_json(const store::AuditEntry& e);

// Where an audit listing starts: "" (the beginning), unix ms (10 digits or
// more), or a duration back from `now_ms` ("1h", "7d"). rmm::Error(InvalidArgument) otherwise.
int64_t parse_since(const std::string& text, int64_t now_ms);

// A key spec from a request body {name, scope?, models?, expires?: "30d", requests_per_minute?, ...}.
KeySpec key_spec_from_json(const nlohmann::json& body);

}  // namespace rmm::access
