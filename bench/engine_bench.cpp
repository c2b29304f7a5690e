// Engine benchmark: runs our BatchEngine and llama.cpp's llama-bench (one
// sequence) and llama-batched-bench (several) on the same model and settings,
// and prints tokens/s for both with the ratio ours / llama.cpp. Each side is
// measured `reps` times, alternating, and the median is compared, because
// machines here are shared and noisy.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/subprocess.hpp"
#include "engine/batch_engine.hpp"

using namespace rmm;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string model;
  int n_prompt = 512;
  int n_gen = 128;
  int threads = 0;
  int gpu_layers = -1;
  int reps = 3;
  std::vector<int> parallel = {1, 8};
  int batched_prompt = 128;
  int batched_gen = 128;
  std::string peer_dir = RMM_PEER_BIN_DIR_DEFAULT;
  std::string flash_attn = "auto";
};

struct Speeds {
  double pp = 0;  // prompt tokens/s
  double tg = 0;  // generated tokens/s (aggregate over sequences)
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

int fa_value(const std::string& s) { return s == "on" ? 1 : s == "off" ? 0 : -1; }

std::vector<engine::Token> random_prompt(const engine::Model& m, int n, unsigned seed) {
  // llama-bench also feeds random tokens; avoid control tokens (ids below 4 here are enough
  // for llama vocabularies, and the range stays inside the vocabulary).
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(4, m.n_vocab() - 1);
  std::vector<engine::Token> out(static_cast<size_t>(n));
  for (auto& t : out) t = dist(rng);
  return out;
}

engine::GenerateRequest request(std::vector<engine::Token> prompt, int n_gen) {
  engine::GenerateRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0;  // greedy: the cheapest sampler, as llama-bench does none
  r.max_tokens = n_gen;
  r.ignore_eos = true;
  return r;
}

engine::ContextParams context_for(const Options& o, int n_seq, int n_ctx) {
  engine::ContextParams cp;
  cp.n_ctx = n_ctx;
  cp.n_seq = n_seq;
  cp.n_threads = o.threads;
  cp.flash_attn = fa_value(o.flash_attn);
  return cp;
}

// One sequence: prompt processing of n_prompt tokens, and generation of n_gen
// tokens from an empty context, as llama-bench's pp and tg tests do.
Speeds ours_single(const std::shared_ptr<engine::Model>& m, const Options& o) {
  engine::BatchEngine pp_engine(m, context_for(o, 1, o.n_prompt + 16));
  const auto pp = pp_engine.generate(request(random_prompt(*m, o.n_prompt, 1), 1));
  engine::BatchEngine tg_engine(m, context_for(o, 1, o.n_gen + 16));
  const auto tg = tg_engine.generate(request({m->bos() >= 0 ? m->bos() : 1}, o.n_gen + 1));
  // generation_ms spans tokens 2..n+1: n decodes of one token each, like tg n.
  return {pp.timings.prompt_tokens_per_second(), tg.timings.generation_tokens_per_second()};
}

// n_seq sequences of batched_prompt tokens each, then batched_gen tokens each,
// as llama-batched-bench does: S_PP and S_TG, aggregate over sequences.
Speeds ours_batched(const std::shared_ptr<engine::Model>& m, const Options& o, int n_seq) {
  const int n_ctx = n_seq * (o.batched_prompt + o.batched_gen + 8);
  engine::BatchEngine eng(m, context_for(o, n_seq, n_ctx));
  Clock::time_point start = Clock::now(), all_first, end;
  int firsts = 0;
  for (int i = 0; i < n_seq; ++i) {
    eng.submit(request(random_prompt(*m, o.batched_prompt, 100 + i), o.batched_gen),
               [&](const engine::TokenEvent& ev) {
                 if (ev.index == 0 && ++firsts == n_seq) all_first = Clock::now();
               },
               {});
  }
  eng.run();
  end = Clock::now();
  const double pp_s = std::chrono::duration<double>(all_first - start).count();
  const double tg_s = std::chrono::duration<double>(end - all_first).count();
  return {n_seq * o.batched_prompt / pp_s, n_seq * (o.batched_gen - 1) / tg_s};
}

Speeds peer_single(const Options& o) {
  const auto r = run_process({o.peer_dir + "/llama-bench", "-m", o.model, "-p", std::to_string(o.n_prompt), "-n",
                              std::to_string(o.n_gen), "-t", std::to_string(o.threads), "-ngl",
                              std::to_string(o.gpu_layers), "-fa", o.flash_attn, "-r", "1", "-o", "json"},
                             "", 3600);
  if (r.exit_code != 0) throw Error(ErrorKind::Internal, "llama-bench failed: " + r.err);
  Speeds s;
  for (const auto& t : nlohmann::json::parse(r.out)) {
    (t.at("n_gen").get<int>() > 0 ? s.tg : s.pp) = t.at("avg_ts").get<double>();
  }
  return s;
}

Speeds peer_batched(const Options& o, int n_seq) {
  const int n_ctx = n_seq * (o.batched_prompt + o.batched_gen + 8);
  const auto r = run_process({o.peer_dir + "/llama-batched-bench", "-m", o.model, "-c", std::to_string(n_ctx), "-b",
                              "2048", "-ub", "512", "-npp", std::to_string(o.batched_prompt), "-ntg",
                              std::to_string(o.batched_gen), "-npl", std::to_string(n_seq), "-t",
                              std::to_string(o.threads), "-ngl", std::to_string(o.gpu_layers), "-fa", o.flash_attn,
                              "--output-format", "jsonl"},
                             "", 3600);
  if (r.exit_code != 0) throw Error(ErrorKind::Internal, "llama-batched-bench failed: " + r.err);
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line);
    return {j.at("speed_pp").get<double>(), j.at("speed_tg").get<double>()};
  }
  throw Error(ErrorKind::Internal, "llama-batched-bench printed no results: " + r.out.substr(0, 2000));
}

void report(const char* what, const std::vector<double>& ours, const std::vector<double>& peer) {
  const double a = median(ours), b = median(peer);
  std::printf("%-34s %12.2f %12.2f %8.3f\n", what, a, b, b > 0 ? a / b : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Engine benchmark: rmm vs llama-bench / llama-batched-bench"};
  app.add_option("MODEL", o.model, "GGUF model")->required()->check(CLI::ExistingFile);
  app.add_option("-p,--n-prompt", o.n_prompt, "Prompt tokens for the single-sequence test");
  app.add_option("-n,--n-gen", o.n_gen, "Generated tokens for the single-sequence test");
  app.add_option("-t,--threads", o.threads, "CPU threads (0: all)");
  app.add_option("--gpu-layers", o.gpu_layers, "Layers on the GPU (-1: all)");
  app.add_option("-r,--reps", o.reps, "Repetitions per side (median is compared)")->check(CLI::Range(1, 100));
  app.add_option("--parallel", o.parallel, "Sequence counts to test (1 uses llama-bench)")->delimiter(',');
  app.add_option("--batched-prompt", o.batched_prompt, "Prompt tokens per sequence for batched tests");
  app.add_option("--batched-gen", o.batched_gen, "Generated tokens per sequence for batched tests");
  app.add_option("--flash-attn", o.flash_attn, "on, off or auto")->check(CLI::IsMember({"on", "off", "auto"}));
  app.add_option("--peer-dir", o.peer_dir, "Directory with llama-bench and llama-batched-bench");
  CLI11_PARSE(app, argc, argv);
  if (o.threads == 0) o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  log::set_level(log::Level::Error);

  try {
    engine::LoadParams lp;
    lp.path = o.model;
    lp.gpu_layers = o.gpu_layers;
    auto model = engine::Model::load(lp);
    std::printf("model: %s (%s), threads %d, reps %d, flash-attn %s\n", o.model.c_str(), model->description().c_str(),
                o.threads, o.reps, o.flash_attn.c_str());
    std::printf("%-34s %12s %12s %8s\n", "test (tokens/s)", "rmm", "llama.cpp", "ratio");
    for (int n_seq : o.parallel) {
      std::vector<double> our_pp, our_tg, peer_pp, peer_tg;
      for (int r = 0; r < o.reps; ++r) {
        const Speeds a = n_seq == 1 ? ours_single(model, o) : ours_batched(model, o, n_seq);
        const Speeds b = n_seq == 1 ? peer_single(o) : peer_batched(o, n_seq);
        our_pp.push_back(a.pp);
        our_tg.push_back(a.tg);
        peer_pp.push_back(b.pp);
        peer_tg.push_back(b.tg);
      }
      char label[96];
      if (n_seq == 1) {
        std::snprintf(label, sizeof label, "pp%d (vs llama-bench)", o.n_prompt);
        report(label, our_pp, peer_pp);
        std::snprintf(label, sizeof label, "tg%d (vs llama-bench)", o.n_gen);
        report(label, our_tg, peer_tg);
      } else {
        std::snprintf(label, sizeof label, "%dx pp%d (vs batched-bench)", n_seq, o.batched_prompt);
        report(label, our_pp, peer_pp);
        std::snprintf(label, sizeof label, "%dx tg%d (vs batched-bench)", n_seq, o.batched_gen);
        report(label, our_tg, peer_tg);
      }
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-engine: %s\n", e.what());
    return 1;
  }
  return 0;
}
