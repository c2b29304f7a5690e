#pragma once
// Flags shared by `rmm run` and `rmm chat`: model loading, context and
// sampling, named after llama.cpp's where one exists.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/parameter_flags.hpp"
#include "engine/batch_engine.hpp"
#include "engine/model.hpp"
#include "engine/sampling.hpp"

namespace rmm::cli {

struct GenerationFlags {
  std::string model;        // a file, or a name in the model registry
  int64_t registry_id = 0;  // the registry's model the name resolved to (0: a file path was given)
  std::string model_name;   // shown and stored: the registry's short name, else the file's stem
  engine::LoadParams load;
  engine::ContextParams context;
  // The table's parameters (engine/parameters.hpp) and the other sampling
  // options the flags set; the prompt is left empty.
  engine::GenerateRequest request;
  std::vector<std::string> logit_bias;  // "TOKEN+BIAS", "TOKEN-BIAS" or "TOKEN-inf"
  std::string grammar_file;
  std::string json_schema_file;
  std::string chat_template;
  std::string system;
  bool raw = false;
  bool no_mmap = false;
  bool verbose = false;
  std::string flash_attn = "auto";
};

void add_generation_flags(CLI::App* cmd, GenerationFlags& f);
// Resolves what the flags point at (files, logit bias syntax); throws rmm::Error(InvalidArgument).
void finalize_generation_flags(GenerationFlags& f);
// Loads the model named by the flags, with a progress line on stderr when verbose.
std::shared_ptr<engine::Model> load_model(const GenerationFlags& f);

// llama.cpp spells some flags with one dash and several letters (-ngl, -ub, -fa);
// CLI11 does not, so main() rewrites them to their long forms first.
std::vector<std::string> normalize_llama_style_flags(int argc, char** argv);
// Help that lists those spellings beside the options they stand for.
std::shared_ptr<CLI::Formatter> llama_style_help_formatter();

}  // namespace rmm::cli
