#include "store/store.hpp"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "core/error.hpp"
#include "core/paths.hpp"
#include "store/migrations.hpp"
#include "store/sql.hpp"
#include "store/sql_store.hpp"

namespace rmm::store {

std::unique_ptr<Store> open_store(const std::string& location, int target_version) {
  if (location.empty()) throw Error(ErrorKind::InvalidArgument, "store location is empty");
  if (location.rfind("postgres://", 0) == 0 || location.rfind("postgresql://", 0) == 0) {
#ifdef RMM_HAVE_POSTGRES
    return std::make_unique<SqlStore>(sql::open_postgres(location), target_version);
#else
    throw Error(ErrorKind::InvalidArgument, "this rmm was built without PostgreSQL (-DRMM_POSTGRES=OFF)");
#endif
  }
  // A fresh $RMM_HOME may not exist yet.
  std::filesystem::path parent = std::filesystem::path(location).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  return std::make_unique<SqlStore>(sql::open_sqlite(location), target_version);
}

std::vector<ChatMessage> path_to(const Conversation& c, int64_t leaf) {
  std::unordered_map<int64_t, const ChatMessage*> by_id;
  for (const ChatMessage& m : c.messages) by_id.emplace(m.id, &m);
  std::vector<ChatMessage> path;
  int64_t at = leaf;
  // A parent is older than its child, so the walk ends; the bound guards
  // against a damaged database all the same.
  while (at != 0 && path.size() < c.messages.size()) {
    const auto it = by_id.find(at);
    if (it == by_id.end()) break;
    path.push_back(*it->second);
    at = it->second->parent_id;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<ChatMessage> current_path(const Conversation& c) { return path_to(c, c.current_leaf); }

std::string default_store_location() { return (paths::home() / "rmm.db").string(); }

void refuse_newer_schema(const char* backend, int found, int supported) {
  throw Error(ErrorKind::BadFile, std::string("the ") + backend + " store has schema version " +
                                      std::to_string(found) + " but this rmm supports up to " +
                                      std::to_string(supported) +
                                      ": it was written by a newer rmm; upgrade rmm");
}

}  // namespace rmm::store
