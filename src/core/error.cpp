#include "core/error.hpp"

namespace rmm {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "invalid_argument";
    case ErrorKind::NotFound: return "not_found";
    case ErrorKind::BadFile: return "bad_file";
    case ErrorKind::OutOfMemory: return "out_of_memory";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::Unavailable: return "unavailable";
    case ErrorKind::Forbidden: return "forbidden";
    case ErrorKind::Internal: return "internal";
  }
  return "internal";
}

}  // namespace rmm
