#include "cli/parameter_flags.hpp"

#include <charconv>
#include <cmath>
#include <optional>
#include <sstream>

#include "core/error.hpp"

namespace rmm::cli {
namespace {

// The whole text as a finite number.
std::optional<double> parse_number(const std::string& text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string range_text(const std::string& lo, const std::string& hi) { return "(" + lo + " to " + hi + ")"; }

// The first of a parameter's flags: "--stop" for "--stop,-r,--reverse-prompt".
std::string first_flag(const engine::ParamSpec& p) {
  const std::string flags = p.flags;
  return flags.substr(0, flags.find(','));
}

}  // namespace

std::string shown(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

CLI::Validator number_in(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& in) -> std::string {
        const auto v = parse_number(in);
        if (!v) return "'" + in + "' is not a number";
        if (*v < lo || *v > hi) return in + " is out of range " + range_text(shown(lo), shown(hi));
        return {};
      },
      "[" + shown(lo) + ", " + shown(hi) + "]");
}

CLI::Validator whole_number_in(int64_t lo, int64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& in) -> std::string {
        int64_t v = 0;
        const auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), v);
        if (ec == std::errc() && end == in.data() + in.size()) {
          if (v < lo || v > hi)
            return in + " is out of range " + range_text(std::to_string(lo), std::to_string(hi));
          return {};
        }
        if (const auto d = parse_number(in)) {
          // 1e12 is out of range; 1.5 is not whole, nor is 1e3 to CLI11, which reads digits only.
          if (*d == std::floor(*d) && (*d < static_cast<double>(lo) || *d > static_cast<double>(hi)))
            return in + " is out of range " + range_text(std::to_string(lo), std::to_string(hi));
          return "'" + in + "' is not a whole number";
        }
        return "'" + in + "' is not a number";
      },
      "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

CLI::Validator parameter_check(const engine::ParamSpec& p) {
  if (p.kind == engine::ParamKind::Integer)
    return whole_number_in(static_cast<int64_t>(p.min), static_cast<int64_t>(p.max));
  return number_in(p.min, p.max);
}

void add_parameter_flags(CLI::App* cmd, engine::GenerateRequest& into, const std::string& group) {
  for (const auto& p : engine::parameters()) {
    engine::visit_member(p, into, [&](auto& m) {
      using T = std::decay_t<decltype(m)>;
      const std::string help = p.help;
      if constexpr (std::is_same_v<T, bool>)
        cmd->add_flag(p.flags, m, help)->group(group);
      else if constexpr (std::is_same_v<T, std::vector<std::string>>)
        cmd->add_option(p.flags, m, help + ")")->group(group);
      else  // defaults in the help come from the members, so that they cannot drift
        cmd->add_option(p.flags, m, help + "; default " + shown(static_cast<double>(m)) + ")")
            ->group(group)
            ->check(parameter_check(p));
    });
  }
}

void check_parameter_flags(const engine::GenerateRequest& r) {
  for (const auto& p : engine::parameters()) {
    if (p.kind != engine::ParamKind::Strings) continue;
    const std::string problem = engine::strings_problem(p, engine::strings_value(p, r));
    if (!problem.empty()) throw Error(ErrorKind::InvalidArgument, first_flag(p) + " " + problem);
  }
}

}  // namespace rmm::cli
