// Saved Prompt Architect comparisons (schema step 8): SqlStore's
// ComparisonStore, one transaction per call like the rest of the store.
#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/sql_store.hpp"
#include "store/store_util.hpp"

namespace rmm::store {

using sql::Params;
using sql::Tx;

namespace {

// Summaries: every column but the body.
const Column<Comparison> kComparisonSummary[] = {
    {"id", &Comparison::id},
    {"owner", &Comparison::owner},
    {"title", &Comparison::title},
    {"kind", &Comparison::kind},
    {"template_id", &Comparison::template_id},
    {"created_at", &Comparison::created_at},
    {"updated_at", &Comparison::updated_at},
};
const Column<Comparison> kComparison[] = {
    {"id", &Comparison::id},
    {"owner", &Comparison::owner},
    {"title", &Comparison::title},
    {"kind", &Comparison::kind},
    {"template_id", &Comparison::template_id},
    {"created_at", &Comparison::created_at},
    {"updated_at", &Comparison::updated_at},
    {"body_json", &Comparison::body_json},
};
const std::string kSelectComparison = std::string("SELECT ") + select_list(kComparison) + " FROM comparisons";

std::optional<Comparison> select_comparison(Tx& tx, const std::string& id) {
  const auto r = tx.exec(kSelectComparison + " WHERE id = $1", {id});
  if (r.empty()) return std::nullopt;
  return read_record(r.front(), kComparison);
}

}  // namespace

Comparison SqlStore::create_comparison(const Comparison& c) {
  const Comparison out = util::new_comparison(c);
  return write("create_comparison", [&](Tx& tx) {
    const auto r = tx.exec(
        "INSERT INTO comparisons (id, owner, title, kind, template_id, body_json, created_at, updated_at, "
        "seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, " +
            d_.next_in_sequence("comparison_seq", "comparisons", "seq") + ") ON CONFLICT (id) DO NOTHING",
        {out.id, out.owner, out.title, out.kind, out.template_id, out.body_json, out.created_at});
    if (r.affected == 0)
      throw Error(ErrorKind::InvalidArgument, "a comparison with id " + out.id + " already exists");
    return out;
  });
}

std::optional<Comparison> SqlStore::get_comparison(const std::string& id) {
  util::check_text("comparison id", id);
  return read("get_comparison", [&](Tx& tx) { return select_comparison(tx, id); });
}

ComparisonPage SqlStore::list_comparisons(const ComparisonQuery& q) {
  util::check_comparison_query(q);
  Params params;
  std::string where;
  if (q.owner) {
    where = " WHERE owner = $1";
    params.emplace_back(*q.owner);
  }
  const std::string page_sql = std::string("SELECT ") + select_list(kComparisonSummary) +
                               " FROM comparisons" + where + " ORDER BY created_at DESC, seq DESC LIMIT $" +
                               std::to_string(params.size() + 1) + " OFFSET $" +
                               std::to_string(params.size() + 2);
  return read("list_comparisons", [&](Tx& tx) {
    ComparisonPage page;
    page.total =
        static_cast<int>(tx.exec("SELECT COUNT(*) FROM comparisons" + where, params).front().integer(0));
    Params paged = params;
    paged.emplace_back(q.limit);
    paged.emplace_back(q.offset);
    page.items = read_records(tx.exec(page_sql, paged), kComparisonSummary);
    for (auto& c : page.items) c.body_json.clear();
    return page;
  });
}

std::optional<Comparison> SqlStore::update_comparison(const std::string& id,
                                                      const std::optional<std::string>& title,
                                                      const std::optional<std::string>& body_json) {
  util::check_text("comparison id", id);
  if (title) util::check_comparison_title(*title);
  const std::optional<std::string> body =
      body_json ? std::optional<std::string>(body_json->empty() ? "{}" : *body_json) : std::nullopt;
  if (body) util::check_comparison_body(*body);
  return write("update_comparison", [&](Tx& tx) -> std::optional<Comparison> {
    // Only the given columns change.
    std::string sets = "updated_at = $2";
    Params params = {id, unix_ms()};
    if (title) {
      params.emplace_back(*title);
      sets += ", title = $" + std::to_string(params.size());
    }
    if (body) {
      params.emplace_back(*body);
      sets += ", body_json = $" + std::to_string(params.size());
    }
    if (tx.exec("UPDATE comparisons SET " + sets + " WHERE id = $1", params).affected == 0)
      return std::nullopt;
    return select_comparison(tx, id);
  });
}

bool SqlStore::delete_comparison(const std::string& id) {
  util::check_text("comparison id", id);
  return changed("delete_comparison", "DELETE FROM comparisons WHERE id = $1", {id});
}

}  // namespace rmm::store
