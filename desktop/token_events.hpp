#pragma once
// Token events of an answer as chat history keeps them (the JSON shape of
// codec::token_event_json, which the web UI's token inspector reads and
// writes too), the fork prefix built from them, and the colour scales of the
// token view.
#include <QColor>
#include <string>
#include <vector>

#include "engine/generation.hpp"

namespace rmm::desktop {

// Alternatives asked for per token (as the web UI asks).
inline constexpr int kAlternatives = 5;
// Entropy is shown on a fixed scale so that colours mean the same in every
// answer: 0 nats (certain) to 4 (about a uniform choice among 55 tokens).
inline constexpr double kEntropyScaleMax = 4.0;

std::string token_events_json(const std::vector<engine::TokenEvent>& events);
// The events of a stored message's logprobs_json; empty when there are none
// or they cannot be read (a message written without them).
std::vector<engine::TokenEvent> token_events_from_json(const std::string& json);

// The events a fork starts with: `source`'s first `at`, then its alternative
// `alt` at `at` as the event there (its probability from the source's
// distribution, the source's alternatives and entropy), as the web UI stores a fork.
std::vector<engine::TokenEvent> fork_prefix(const std::vector<engine::TokenEvent>& source, int at, int alt);

double probability(float logprob);  // 0 for -inf or NaN

enum class TokenLayer { Probability, Entropy };
// How remarkable a token is on a layer, 0..1: improbable, or picked from a wide distribution.
double layer_value(const engine::TokenEvent& e, TokenLayer layer);
// A background that darkens as the value grows (lightness carries the scale, hue a second cue)
// and a text colour readable on it.
QColor scale_background(double t, TokenLayer layer);
QColor scale_text(double t, TokenLayer layer);

}  // namespace rmm::desktop
