#pragma once
// Versioned schema migrations, one ordered list per back end. Each step runs
// in its own transaction together with its row in schema_migrations; opening
// an older database applies the missing steps, and a database whose version
// is above the last step here is refused (it was written by a newer rmm).
// Both lists describe the same schema, step for step.
#include <vector>

namespace rmm::store {

struct MigrationStep {
  int version;
  const char* what;
  const char* sql;
};

const std::vector<MigrationStep>& sqlite_migrations();
const std::vector<MigrationStep>& postgres_migrations();

// Error text for a database newer than this binary.
[[noreturn]] void refuse_newer_schema(const char* backend, int found, int supported);

}  // namespace rmm::store
