#include "engine/parameters.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace rmm::engine {
namespace {

constexpr double kSame = std::numeric_limits<double>::quiet_NaN();
using P = ParamKind;
using S = SamplingParams;
using G = GenerateRequest;

// Ranges are inclusive. temperature, top_p and typical_p accept the whole
// range llama.cpp's samplers take (top_p 0 keeps the top token only).
constexpr ParamSpec kParameters[] = {
    {"temperature", "--temp", P::Number, &S::temperature, 0, 100, 1.0, "Temperature (0: greedy"},
    {"top_k", "--top-k", P::Integer, &S::top_k, 0, 2147483647, 0, "Top-k (0: off"},
    {"top_p", "--top-p", P::Number, &S::top_p, 0, 1, 1.0, "Top-p (1: off"},
    {"min_p", "--min-p", P::Number, &S::min_p, 0, 1, 0, "Min-p (0: off"},
    {"typical_p", "--typical", P::Number, &S::typical_p, 0, 1, kSame, "Typical-p (1: off"},
    {"repeat_penalty", "--repeat-penalty", P::Number, &S::repeat_penalty, 0.01, 10, kSame,
     "Repeat penalty (1: off"},
    {"repeat_last_n", "--repeat-last-n", P::Integer, &S::repeat_last_n, -1, 1 << 20, kSame,
     "Tokens the penalties look back over (-1: the context"},
    {"presence_penalty", "--presence-penalty", P::Number, &S::presence_penalty, -2, 2, kSame,
     "Presence penalty (0: off"},
    {"frequency_penalty", "--frequency-penalty", P::Number, &S::frequency_penalty, -2, 2, kSame,
     "Frequency penalty (0: off"},
    {"seed", "-s,--seed", P::Integer, &S::seed, -1, 4294967295.0, kSame, "Random seed (-1: random"},
    {"max_tokens", "-n,--max-tokens,--n-predict", P::Integer, &G::max_tokens, -1, 1 << 30, kSame,
     "Tokens to generate (-1: until the end"},
    {"stop", "--stop,-r,--reverse-prompt", P::Strings, &G::stop, 0, 4, kSame,
     "Stop when this text is generated (repeatable, at most 4"},
    {"ignore_eos", "--ignore-eos", P::Boolean, &G::ignore_eos, 0, 1, kSame,
     "Keep generating past the end-of-generation token"},
};

// Every field of the two structs is either a table parameter or one the wire
// (worker/wire.cpp) and the cache key (cache/cache_key.cpp) name one by one.
// A new field fails these until it is in the table or in those two files
// (and the counts below).
struct AnyField {
  template <class T>
  operator T() const;
};
template <class T, class... A>
constexpr size_t field_count() {
  if constexpr (requires { T{A{}..., AnyField{}}; })
    return field_count<T, A..., AnyField>();
  else
    return sizeof...(A);
}
constexpr size_t table_members_of_sampling() {
  size_t n = 0;
  for (const auto& p : kParameters) n += p.member.index() <= 2;
  return n;
}
// logit_bias, grammar, json_schema, grammar_lazy, grammar_trigger_patterns,
// grammar_trigger_tokens, grammar_prefill
constexpr size_t kOtherSamplingFields = 7;
// prompt, sampling, visible_special_tokens, logprobs, top_logprobs, continue_from
constexpr size_t kOtherRequestFields = 6;
static_assert(field_count<SamplingParams>() == table_members_of_sampling() + kOtherSamplingFields,
              "a SamplingParams field is neither in the parameter table nor counted as another field");
static_assert(field_count<GenerateRequest>() ==
                  std::size(kParameters) - table_members_of_sampling() + kOtherRequestFields,
              "a GenerateRequest field is neither in the parameter table nor counted as another field");

}  // namespace

std::span<const ParamSpec> parameters() { return kParameters; }

const ParamSpec* find_parameter(std::string_view name) {
  for (const auto& p : kParameters) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

double scalar_value(const ParamSpec& p, const GenerateRequest& r) {
  return visit_member(p, r, [](const auto& m) -> double {
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(m)>>)
      return static_cast<double>(m);
    else
      throw Error(ErrorKind::Internal, "not a scalar parameter");
  });
}

void set_scalar(const ParamSpec& p, GenerateRequest& r, double v) {
  visit_member(p, r, [&](auto& m) {
    using T = std::decay_t<decltype(m)>;
    if constexpr (std::is_same_v<T, bool>)
      m = v != 0;
    else if constexpr (std::is_arithmetic_v<T>)
      m = static_cast<T>(v);
    else
      throw Error(ErrorKind::Internal, "not a scalar parameter");
  });
}

const std::vector<std::string>& strings_value(const ParamSpec& p, const GenerateRequest& r) {
  return r.*std::get<std::vector<std::string> GenerateRequest::*>(p.member);
}

std::string shown_number(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  return out.str();
}

std::string range_problem(const ParamSpec& p, double v) {
  if (p.kind == ParamKind::Boolean) return v == 0 || v == 1 ? "" : "must be true or false";
  if (p.kind == ParamKind::Integer && std::isfinite(v) && std::floor(v) != v) return "must be an integer";
  if (!std::isfinite(v) || v < p.min || v > p.max)
    return "must be between " + shown_number(p.min) + " and " + shown_number(p.max);
  return "";
}

std::string strings_problem(const ParamSpec& p, const std::vector<std::string>& v) {
  if (static_cast<double>(v.size()) > p.max) return "takes at most " + shown_number(p.max) + " strings";
  for (const auto& s : v) {
    if (s.empty()) return "strings must not be empty";
    if (!utf8::is_valid(s)) return "strings must be valid UTF-8";
  }
  return "";
}

GenerateRequest engine_defaults() { return GenerateRequest{}; }

GenerateRequest openai_defaults() {
  GenerateRequest r;
  for (const auto& p : kParameters) {
    if (!std::isnan(p.openai_default)) set_scalar(p, r, p.openai_default);
  }
  return r;
}

void check_sampling_parameters(const SamplingParams& s) {
  for (const auto& p : kParameters) {
    if (p.member.index() > 2) continue;  // not a SamplingParams member
    const double v = std::visit(
        [&](auto ptr) -> double {
          if constexpr (std::is_same_v<typename MemberOf<decltype(ptr)>::type, SamplingParams>)
            return static_cast<double>(s.*ptr);
          else
            return 0;
        },
        p.member);
    const std::string problem = range_problem(p, v);
    if (!problem.empty()) throw Error(ErrorKind::InvalidArgument, std::string(p.name) + " " + problem);
  }
}

}  // namespace rmm::engine
