#pragma once
// The store behind `rmm serve` and `rmm chat` (--database LOCATION): opened
// with one clear error, and named in logs without a password.
#include <memory>
#include <string>

#include "store/store.hpp"

namespace rmm::cli {

// Opens `location` (a SQLite file or a postgres:// URL); a failure is
// rmm::Error naming the location, never a usage error (exit 1, not 2).
std::unique_ptr<store::Store> open_database(const std::string& location);

// "postgres://user:secret@host/db" → "postgres://user:***@host/db"; paths unchanged.
std::string redacted_location(const std::string& location);

}  // namespace rmm::cli
