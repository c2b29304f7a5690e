#include "prompts/files.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/paths.hpp"

namespace rmm::prompts {

Template import_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error(ErrorKind::NotFound, "no template file at " + path.string());
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(ErrorKind::BadFile, "cannot read " + path.string() + ": " + ec.message());
  if (size > kMaxTemplateBytes)
    throw TemplateError("", path.string() + " is larger than " + std::to_string(kMaxTemplateBytes / 1024) +
                                " KiB, the limit for one template");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) throw Error(ErrorKind::BadFile, "cannot read " + path.string());
  try {
    return parse_template_text(text.str());
  } catch (const TemplateError& e) {
    throw TemplateError(e.field(), path.string() + ": " + e.what());
  }
}

std::filesystem::path default_export_path(const Template& t) {
  return paths::prompts_dir() / ((t.id.empty() ? id_from_name(t.name) : t.id) + ".json");
}

void export_file(const Template& t, const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    throw Error(ErrorKind::Internal, "cannot create " + path.parent_path().string() + ": " + ec.message());
  // A temporary name unique to this process, in the same folder so the rename is atomic.
  auto tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << to_json(t).dump(2) << '\n';
    out.flush();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      throw Error(ErrorKind::Internal, "cannot write " + tmp.string());
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error(ErrorKind::Internal, "cannot write " + path.string());
  }
}

}  // namespace rmm::prompts
