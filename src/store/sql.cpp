#include "store/sql.hpp"

#include <charconv>

#include "core/error.hpp"

namespace rmm::store::sql {

namespace {

// A number PostgreSQL sent as text (from_chars: locale-independent, as it writes them).
template <class T>
T parse(const std::string& text, const char* type) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error(ErrorKind::Internal, "stored value '" + text + "' is not " + type);
  return v;
}

// A numeric field as T (NULL: 0).
template <class T>
T number(const Row::Field& f, const char* type) {
  if (const auto* i = std::get_if<int64_t>(&f)) return static_cast<T>(*i);
  if (const auto* d = std::get_if<double>(&f)) return static_cast<T>(*d);
  if (const auto* s = std::get_if<std::string>(&f)) return parse<T>(*s, type);
  return T{};
}

}  // namespace

const Row::Field& Row::at(int column) const {
  if (column < 0 || static_cast<size_t>(column) >= fields_.size())
    throw Error(ErrorKind::Internal, "no column " + std::to_string(column) + " in the result");
  return fields_[static_cast<size_t>(column)];
}

std::string Row::text(int column) const {
  const Field& f = at(column);
  if (const auto* s = std::get_if<std::string>(&f)) return *s;
  if (const auto* i = std::get_if<int64_t>(&f)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&f)) return std::to_string(*d);
  return {};
}

int64_t Row::integer(int column) const { return number<int64_t>(at(column), "an integer"); }

double Row::real(int column) const { return number<double>(at(column), "a number"); }

bool Row::flag(int column) const {
  const Field& f = at(column);
  if (const auto* s = std::get_if<std::string>(&f)) return *s == "t" || *s == "true" || *s == "1";
  return integer(column) != 0;
}

}  // namespace rmm::store::sql
