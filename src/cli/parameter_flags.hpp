#pragma once
// The generation parameter table (engine/parameters.hpp) as command-line
// flags, and the number checks every numeric flag uses. Apart from the rest
// of the CLI so that tests can parse flags in process.
#include <CLI/CLI.hpp>
#include <cstdint>

#include "engine/parameters.hpp"

namespace rmm::cli {

// Number checks for options: CLI11's Range answers "not in range" even for
// text that is no number, so these say "not a number", "not a whole number"
// or "out of range (LO to HI)" as the case is.
CLI::Validator number_in(double lo, double hi);
CLI::Validator whole_number_in(int64_t lo, int64_t hi);
// The check for one of the table's number parameters, with the table's range.
CLI::Validator parameter_check(const engine::ParamSpec& p);
// A default as help shows it: 0.8, not 0.800000011920929.
std::string shown(double v);

// One flag per table parameter (its flags, help with the default, range),
// setting `into`'s members, in `group`.
void add_parameter_flags(CLI::App* cmd, engine::GenerateRequest& into, const std::string& group);
// What CLI11 cannot check per value: the count and contents of list flags
// (--stop). Throws rmm::Error(InvalidArgument) naming the flag.
void check_parameter_flags(const engine::GenerateRequest& r);

}  // namespace rmm::cli
