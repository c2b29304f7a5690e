#include "cli/database.hpp"

#include "core/error.hpp"

namespace rmm::cli {

std::string redacted_location(const std::string& location) {
  const auto scheme = location.find("://");
  if (scheme == std::string::npos) return location;
  const auto at = location.find('@', scheme + 3);
  if (at == std::string::npos) return location;
  const auto colon = location.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return location;
  return location.substr(0, colon + 1) + "***" + location.substr(at);
}

std::unique_ptr<store::Store> open_database(const std::string& location) {
  try {
    return store::open_store(location);
  } catch (const Error& e) {
    const ErrorKind kind = e.kind() == ErrorKind::InvalidArgument ? ErrorKind::BadFile : e.kind();
    throw Error(kind, "cannot open the database " + redacted_location(location) + ": " + e.what());
  } catch (const std::exception& e) {
    throw Error(ErrorKind::Internal,
                "cannot open the database " + redacted_location(location) + ": " + e.what());
  }
}

}  // namespace rmm::cli
