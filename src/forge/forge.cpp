#include "forge/forge.hpp"

#include <ggml.h>
#include <gguf.h>
#include <llama.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "forge/rng.hpp"
#include "forge/tensor_plan.hpp"
#include "forge/vocab.hpp"

namespace rmm::forge {
namespace {

namespace fs = std::filesystem;

// The standard deviation of the random weights: the usual initialisation
// scale for transformers, small enough that random activations stay finite.
constexpr float kWeightStd = 0.02f;
// Rows are generated and quantized in chunks of about this many values (4 MiB as floats).
constexpr uint64_t kChunkValues = 1u << 20;

struct GgufDeleter {
  void operator()(gguf_context* ctx) const { gguf_free(ctx); }
};
struct GgmlDeleter {
  void operator()(ggml_context* ctx) const { ggml_free(ctx); }
};

[[noreturn]] void io_error(const std::string& what, const fs::path& file) {
  throw Error(ErrorKind::Internal, what + " " + file.string() + ": " + std::strerror(errno));
}

// The output is written under a temporary name and renamed when complete,
// so a crash or an error never leaves a truncated model under the real name.
class TempFile {
 public:
  explicit TempFile(const fs::path& out)
      : final_(out), path_(out.string() + ".tmp." + std::to_string(::getpid())) {
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) io_error("cannot create", path_);
  }
  ~TempFile() {
    if (file_) std::fclose(file_);
    if (!committed_) {
      std::error_code ec;
      fs::remove(path_, ec);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const void* data, size_t size) {
    if (size > 0 && std::fwrite(data, 1, size, file_) != size) io_error("cannot write", path_);
  }

  void commit() {
    if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) io_error("cannot write", path_);
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) io_error("cannot write", path_);
    std::error_code ec;
    fs::rename(path_, final_, ec);
    if (ec)
      throw Error(ErrorKind::Internal,
                  "cannot rename " + path_.string() + " to " + final_.string() + ": " + ec.message());
    committed_ = true;
  }

 private:
  fs::path final_;
  fs::path path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

void check_output_path(const fs::path& out) {
  std::error_code ec;
  if (out.empty()) throw Error(ErrorKind::InvalidArgument, "the output path is empty");
  if (fs::is_directory(out, ec))
    throw Error(ErrorKind::InvalidArgument, "output " + out.string() + " is a directory");
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (!fs::is_directory(parent, ec)) {
    throw Error(ErrorKind::NotFound, "output directory " + parent.string() + " does not exist");
  }
}

std::unique_ptr<gguf_context, GgufDeleter> build_metadata(const Spec& spec, const VocabFile& vocab) {
  std::unique_ptr<gguf_context, GgufDeleter> ctx(gguf_init_empty());
  if (!ctx) throw Error(ErrorKind::OutOfMemory, "cannot allocate GGUF metadata");
  gguf_context* g = ctx.get();
  const Shape& s = spec.shape;
  gguf_set_val_str(g, "general.architecture", "llama");
  gguf_set_val_str(g, "general.type", "model");
  gguf_set_val_str(g, "general.name", spec.name.c_str());
  const std::string description =
      "Random weights (seed " + std::to_string(spec.seed) + ") written by rmm forge; not a trained model.";
  gguf_set_val_str(g, "general.description", description.c_str());
  gguf_set_val_u32(g, "general.file_type", llama_file_type(spec.type));
  gguf_set_val_u32(g, "general.quantization_version", GGML_QNT_VERSION);
  gguf_set_val_u32(g, GGUF_KEY_GENERAL_ALIGNMENT, GGUF_DEFAULT_ALIGNMENT);

  gguf_set_val_u32(g, "llama.vocab_size", vocab.n_tokens());
  gguf_set_val_u32(g, "llama.context_length", s.n_ctx);
  gguf_set_val_u32(g, "llama.embedding_length", s.n_embd);
  gguf_set_val_u32(g, "llama.block_count", s.n_layer);
  gguf_set_val_u32(g, "llama.feed_forward_length", s.n_ff);
  gguf_set_val_u32(g, "llama.attention.head_count", s.n_head);
  gguf_set_val_u32(g, "llama.attention.head_count_kv", s.n_head_kv);
  gguf_set_val_f32(g, "llama.attention.layer_norm_rms_epsilon", s.rms_eps);
  gguf_set_val_f32(g, "llama.rope.freq_base", s.rope_freq_base);
  gguf_set_val_u32(g, "llama.rope.dimension_count", s.n_embd / s.n_head);

  vocab.copy_tokenizer_keys(g);
  return ctx;
}

struct Job {
  size_t tensor = 0;
  int64_t first_row = 0;
  int64_t n_rows = 0;
  bool last_of_tensor = false;
};

std::vector<Job> plan_jobs(const std::vector<TensorPlan>& plan) {
  std::vector<Job> jobs;
  for (size_t t = 0; t < plan.size(); ++t) {
    const int64_t rows = plan[t].n_rows;
    const int64_t step = std::clamp<int64_t>(static_cast<int64_t>(kChunkValues) / plan[t].n_cols, 1, rows);
    for (int64_t r = 0; r < rows; r += step) {
      jobs.push_back({t, r, std::min(step, rows - r), r + step >= rows});
    }
  }
  return jobs;
}

// Fills `out` with the stored bytes of rows [first_row, first_row + n_rows) of tensor `t`.
void make_rows(const TensorPlan& t, size_t tensor_index, uint64_t seed, const Job& job,
               std::vector<float>& values, std::vector<uint8_t>& out) {
  const int64_t cols = t.n_cols;
  const size_t n = static_cast<size_t>(job.n_rows * cols);
  values.resize(n);
  if (t.is_norm) {
    std::fill(values.begin(), values.end(), 1.0f);
  } else {
    for (int64_t r = 0; r < job.n_rows; ++r) {
      Xoshiro256 rng(row_seed(seed, tensor_index, static_cast<uint64_t>(job.first_row + r)));
      float* row = values.data() + r * cols;
      for (int64_t c = 0; c < cols; ++c) row[c] = rng.normalish(kWeightStd);
    }
  }
  const size_t bytes = t.row_bytes() * static_cast<size_t>(job.n_rows);
  out.resize(bytes);
  switch (t.type) {
    case GGML_TYPE_F32: std::memcpy(out.data(), values.data(), bytes); break;
    case GGML_TYPE_F16:
      ggml_fp32_to_fp16_row(values.data(), reinterpret_cast<ggml_fp16_t*>(out.data()),
                            static_cast<int64_t>(n));
      break;
    default: {
      const size_t written =
          ggml_quantize_chunk(t.type, values.data(), out.data(), 0, job.n_rows, cols, nullptr);
      if (written != bytes) {
        throw Error(ErrorKind::Internal, "quantizing " + t.name + " gave " + std::to_string(written) +
                                             " bytes instead of " + std::to_string(bytes));
      }
    }
  }
}

// Workers make chunks in any order into a ring of slots; the calling thread
// writes them in file order. A worker may run at most `window` chunks ahead of
// the writer, which bounds memory.
class Pipeline {
 public:
  Pipeline(const Spec& spec, const std::vector<TensorPlan>& plan, const std::vector<Job>& jobs,
           unsigned threads)
      : spec_(spec), plan_(plan), jobs_(jobs), window_(2 * threads + 2), slots_(window_) {
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pipeline() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Waits for chunk `j`; the reference stays valid until release(j).
  const std::vector<uint8_t>& wait(size_t j) {
    std::unique_lock lock(mu_);
    Slot& slot = slots_[j % window_];
    cv_.wait(lock, [&] { return slot.job == static_cast<int64_t>(j) || error_; });
    if (error_) std::rethrow_exception(error_);
    return slot.bytes;
  }

  void release(size_t j) {
    {
      std::lock_guard lock(mu_);
      written_ = j + 1;
    }
    cv_.notify_all();
  }

 private:
  struct Slot {
    int64_t job = -1;  // the chunk whose bytes are ready in this slot
    std::vector<uint8_t> bytes;
  };

  void work() {
    std::vector<float> values;
    for (;;) {
      size_t j;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock,
                 [&] { return stop_ || error_ || next_ >= jobs_.size() || next_ < written_ + window_; });
        if (stop_ || error_ || next_ >= jobs_.size()) return;
        j = next_++;
      }
      Slot& slot = slots_[j % window_];
      try {
        const Job& job = jobs_[j];
        make_rows(plan_[job.tensor], job.tensor, spec_.seed, job, values, slot.bytes);
      } catch (...) {
        std::lock_guard lock(mu_);
        if (!error_) error_ = std::current_exception();
        cv_.notify_all();
        return;
      }
      {
        std::lock_guard lock(mu_);
        slot.job = static_cast<int64_t>(j);
      }
      cv_.notify_all();
    }
  }

  const Spec& spec_;
  const std::vector<TensorPlan>& plan_;
  const std::vector<Job>& jobs_;
  const size_t window_;
  std::vector<Slot> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t next_ = 0;     // the next chunk a worker will take
  size_t written_ = 0;  // chunks the writer is done with
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
};

unsigned thread_count(unsigned requested, size_t n_jobs) {
  unsigned n = requested ? requested : std::thread::hardware_concurrency();
  n = std::clamp(n, 1u, 256u);
  return static_cast<unsigned>(std::min<size_t>(n, std::max<size_t>(n_jobs, 1)));
}

}  // namespace

ForgeResult forge(const Spec& spec, const fs::path& out, const ForgeOptions& options) {
  validate(spec);
  check_output_path(out);
  ForgeResult result;
  result.vocab_file = resolve_vocab(spec.vocab);
  const VocabFile vocab(result.vocab_file);
  result.n_vocab = vocab.n_tokens();

  const std::vector<TensorPlan> plan = plan_tensors(spec.shape, vocab.n_tokens(), spec.type);
  auto meta = build_metadata(spec, vocab);

  // gguf_add_tensor wants ggml tensors: describe them in a context without data.
  ggml_init_params params{};
  params.mem_size = (plan.size() + 1) * ggml_tensor_overhead();
  params.no_alloc = true;
  std::unique_ptr<ggml_context, GgmlDeleter> tensors(ggml_init(params));
  if (!tensors) throw Error(ErrorKind::OutOfMemory, "cannot allocate the tensor descriptions");
  for (const TensorPlan& t : plan) {
    ggml_tensor* tensor = t.is_matrix ? ggml_new_tensor_2d(tensors.get(), t.type, t.n_cols, t.n_rows)
                                      : ggml_new_tensor_1d(tensors.get(), t.type, t.n_cols);
    ggml_set_name(tensor, t.name.c_str());
    gguf_add_tensor(meta.get(), tensor);
    result.n_params += t.n_elements();
  }
  result.n_tensors = plan.size();

  const size_t alignment = gguf_get_alignment(meta.get());
  std::vector<uint8_t> header(gguf_get_meta_size(meta.get()));
  gguf_get_meta_data(meta.get(), header.data());
  uint64_t total = header.size();
  for (size_t i = 0; i < plan.size(); ++i) {
    // Our running offset must agree with the one the header records.
    if (gguf_get_tensor_offset(meta.get(), static_cast<int64_t>(i)) != total - header.size()) {
      throw Error(ErrorKind::Internal, "tensor offset mismatch for " + plan[i].name);
    }
    total += GGML_PAD(plan[i].n_bytes(), alignment);
  }

  const std::vector<Job> jobs = plan_jobs(plan);
  TempFile file(out);
  file.write(header.data(), header.size());
  uint64_t written = header.size();
  Progress progress;
  progress.n_tensors = plan.size();
  progress.total_bytes = total;
  const std::vector<uint8_t> zeros(alignment, 0);
  {
    Pipeline pipeline(spec, plan, jobs, thread_count(options.threads, jobs.size()));
    for (size_t j = 0; j < jobs.size(); ++j) {
      const std::vector<uint8_t>& bytes = pipeline.wait(j);
      file.write(bytes.data(), bytes.size());
      written += bytes.size();
      if (jobs[j].last_of_tensor) {
        // Alignment counts from the start of the data section.
        const uint64_t data = written - header.size();
        const size_t pad = static_cast<size_t>(GGML_PAD(data, alignment) - data);
        file.write(zeros.data(), pad);
        written += pad;
      }
      pipeline.release(j);
      if (options.progress) {
        progress.tensor_index = jobs[j].tensor;
        progress.tensor_name = &plan[jobs[j].tensor].name;
        progress.bytes_written = written;
        options.progress(progress);
      }
    }
  }
  if (written != total)
    throw Error(ErrorKind::Internal,
                "wrote " + std::to_string(written) + " bytes, expected " + std::to_string(total));
  file.commit();
  result.file_size = total;
  return result;
}

}  // namespace rmm::forge
