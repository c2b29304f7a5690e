#pragma once
// Generation parameters in JSON, read and written by walking the one table
// (engine/parameters.hpp): /v1 request bodies, the WebSocket's `params`,
// template parameters blocks and stored chat history all use these, so their
// types, ranges and messages cannot drift apart.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "engine/parameters.hpp"

namespace rmm::codec {

// A parameter of the wrong type or out of range. what(): "'PARAMETER' PROBLEM".
class ParameterError : public Error {
 public:
  ParameterError(std::string parameter, std::string field, std::string problem)
      : Error(ErrorKind::InvalidArgument, "'" + parameter + "' " + problem),
        parameter_(std::move(parameter)),
        field_(std::move(field)),
        problem_(std::move(problem)) {}
  // The parameter as the caller named it ("params.stop").
  const std::string& parameter() const { return parameter_; }
  // Where the bad value is ("params.stop[1]"; the parameter itself for most problems).
  const std::string& field() const { return field_; }
  // "must be between 0 and 100", without the name.
  const std::string& problem() const { return problem_; }

 private:
  std::string parameter_, field_, problem_;
};

// Reads one parameter's value into `into`. null leaves it as it is (the
// default). `name` is what errors call it. Throws ParameterError.
void read_parameter(const engine::ParamSpec& p, const nlohmann::json& value, engine::GenerateRequest& into,
                    const std::string& name);
// Reads every table parameter present in `obj` into `into`, whose values
// until then are the front end's defaults (engine::engine_defaults() or
// engine::openai_defaults()); other keys are the caller's. `prefix` goes
// before names in errors ("params."). Throws ParameterError.
void read_parameters(const nlohmann::json& obj, engine::GenerateRequest& into,
                     const std::string& prefix = "");

// A request's answer so far, rmm's extension on /v1 and the WebSocket:
// {"tokens": [id, ...]} (null: none). With n_vocab > 0 each id is checked
// against the vocabulary; a front end that does not know the model yet leaves
// that to the engine, which says the same. `name` is what errors call it
// ("continue_from"); a bad id is named by its index. Throws ParameterError.
inline constexpr size_t kMaxContinueFromTokens = 1 << 20;  // the context is the real bound, checked later
std::vector<engine::Token> read_continue_from(const nlohmann::json& value, int n_vocab,
                                              const std::string& name = "continue_from");

// One parameter's value as JSON (floats in their shortest decimal form: 0.7, not 0.699999988).
nlohmann::json parameter_json(const engine::ParamSpec& p, const engine::GenerateRequest& r);
// Every table parameter of `r`; with `only`, those that `only` holds (not null).
nlohmann::json parameters_json(const engine::GenerateRequest& r, const nlohmann::json* only = nullptr);

// The table itself, for the UIs (GET /api/parameters): [{name, type ("number",
// "integer", "boolean", "strings"), min, max (for strings: the most), default
// (rmm run's and the WebSocket's), openai_default (/v1's), help}].
nlohmann::json parameter_table_json();

// The table's JSON names, for "known: ..." lists.
std::vector<std::string> parameter_names();

}  // namespace rmm::codec
