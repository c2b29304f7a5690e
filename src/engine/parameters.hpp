#pragma once
// Every generation parameter the front ends accept, described once: its JSON
// name (/v1, the WebSocket's `params`, template parameters blocks, stored
// history), its CLI flags, the member it sets, its range, its default and its
// help text. The front ends, the worker wire and the cache key all walk this
// table, so that a new sampling parameter is one entry here plus the engine's
// use of it (sampling.hpp/.cpp). JSON reading lives in codec/parameters_json
// (rmm_core keeps Debian's nlohmann json out).
//
// Structured options that each front end spells its own way (logit bias,
// grammar and JSON Schema, log-probabilities, tool-call grammars) are not in
// the table; the wire and the cache key name them one by one.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "engine/generation.hpp"

namespace rmm::engine {

template <class T>
struct MemberOf;
template <class M, class C>
struct MemberOf<M C::*> {
  using type = C;
};

enum class ParamKind { Number, Integer, Boolean, Strings };

// The member a parameter sets, in SamplingParams or in GenerateRequest.
using ParamMember = std::variant<float SamplingParams::*, int SamplingParams::*, int64_t SamplingParams::*,
                                 int GenerateRequest::*, bool GenerateRequest::*,
                                 std::vector<std::string> GenerateRequest::*>;

struct ParamSpec {
  const char* name;   // JSON name
  const char* flags;  // CLI11 option names ("-s,--seed")
  ParamKind kind;
  ParamMember member;
  double min = 0;  // Number, Integer: the inclusive range
  double max = 0;  // Strings: the most strings
  // /v1's default where OpenAI's differs from rmm's (temperature 1, no top-k...);
  // NaN: the engine's own default (the member's initializer, which `rmm run` and
  // the WebSocket use).
  double openai_default;
  const char* help;  // CLI help, completed with the default
};

// The table, in the order the CLI's help lists it.
std::span<const ParamSpec> parameters();
// nullptr for a name that is not in the table.
const ParamSpec* find_parameter(std::string_view name);

// Calls f(T& member) with the member a parameter sets in `r` (const when `r` is).
template <class Request, class F>
requires std::is_same_v<std::remove_const_t<Request>, GenerateRequest>
decltype(auto) visit_member(const ParamSpec& p, Request& r, F&& f) {
  return std::visit(
      [&](auto ptr) -> decltype(auto) {
        using Class = typename MemberOf<decltype(ptr)>::type;
        if constexpr (std::is_same_v<Class, SamplingParams>)
          return f(r.sampling.*ptr);
        else
          return f(r.*ptr);
      },
      p.member);
}

// A Number, Integer or Boolean parameter's value as a double (Booleans 0 or 1).
double scalar_value(const ParamSpec& p, const GenerateRequest& r);
// Sets one; the value must be in range (see range_problem).
void set_scalar(const ParamSpec& p, GenerateRequest& r, double v);
const std::vector<std::string>& strings_value(const ParamSpec& p, const GenerateRequest& r);

// What is wrong with a value for `p` ("must be between 0 and 100", "takes at
// most 4 strings", ...), or "" when it is allowed. The one source of every
// front end's range message.
std::string range_problem(const ParamSpec& p, double v);
std::string strings_problem(const ParamSpec& p, const std::vector<std::string>& v);
// A bound as people write it: 0.8, 4294967295.
std::string shown_number(double v);

// rmm's defaults (`rmm run`, the WebSocket) and OpenAI's (/v1).
GenerateRequest engine_defaults();
GenerateRequest openai_defaults();

// Throws rmm::Error(InvalidArgument) "NAME must be ..." for the first table
// parameter of SamplingParams that is out of range (the engine's check at submit).
void check_sampling_parameters(const SamplingParams& s);

}  // namespace rmm::engine
