#pragma once
// POST /api/tokenize and /api/detokenize: the loaded model's tokenizer, for
// the token inspector and for clients that count or bias tokens
// (logit_bias takes token ids). Also under llama-server's names /tokenize and
// /detokenize.
#include "server/http_server.hpp"
#include "serving/model_host.hpp"

namespace rmm::server::native {

void add_token_routes(Router& router, serving::ModelHost& host);

}  // namespace rmm::server::native
