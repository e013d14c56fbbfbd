#include "gallery.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "http_error.hpp"

namespace cli::serve {

using nlohmann::json;

namespace {

struct CbirFree {
  void operator()(void* p) const { cbir_free(p); }
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Three decimals are plenty to read, and keep float noise out of the JSON.
double rounded(double v, double scale) { return std::round(v * scale) / scale; }

std::string thumb_url(int64_t id) { return "/api/thumb/" + std::to_string(id); }

// YYYY-MM-DD, digits where digits go: a date range is spliced into a filter expression, so it
// is checked to be exactly that (the filter compiler checks the calendar).
bool is_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

}  // namespace

Gallery::Gallery(const cbir_model_t* model, const cbir_collection_t* coll, Limits limits)
    : model_(model), coll_(coll), limits_(limits) {
  model_info_ = {};
  model_info_.version = sizeof model_info_;
  check_http(cbir_model_info(&model_info_, model_), "model");
}

void Gallery::check_page(const Page& page) const {
  if (page.k < 1 || page.k > limits_.max_k)
    throw HttpError(400, "k must be from 1 to " + std::to_string(limits_.max_k) + " (got " +
                             std::to_string(page.k) + ")");
  if (page.offset > limits_.max_depth || page.offset + page.k > limits_.max_depth)
    throw HttpError(400, "offset + k must be at most " + std::to_string(limits_.max_depth) +
                             " (got offset " + std::to_string(page.offset) + ", k " +
                             std::to_string(page.k) + "): refine the query instead of paging "
                             "this deep");
  if (page.where.size() > limits_.max_filter_bytes)
    throw HttpError(400, "the filter has " + std::to_string(page.where.size()) +
                             " bytes; at most " + std::to_string(limits_.max_filter_bytes) +
                             " are accepted");
  for (const auto& [name, value] : {std::pair{"from", &page.from}, std::pair{"to", &page.to}})
    if (!value->empty() && !is_date(*value))
      throw HttpError(400, std::string(name) + " must be a date YYYY-MM-DD (got '" +
                               value->substr(0, 40) + "')");
}

std::string Gallery::filter_of(const Page& page) {
  std::string f;
  auto add = [&f](const std::string& part) { f += (f.empty() ? "" : " and ") + part; };
  // Alone, the filter goes as typed, so that an error's position is the user's own.
  if (page.from.empty() && page.to.empty()) return page.where;
  if (!page.where.empty()) add("(" + page.where + ")");
  if (!page.from.empty()) add("taken >= '" + page.from + "'");
  if (!page.to.empty()) add("taken <= '" + page.to + "T23:59:59'");
  return f;
}

void Gallery::describe_filter(json& out, const Page& page) {
  if (!page.where.empty()) out["query"]["where"] = page.where;
  if (!page.from.empty()) out["query"]["from"] = page.from;
  if (!page.to.empty()) out["query"]["to"] = page.to;
}

json Gallery::info() const {
  cbir_collection_info_t* raw = nullptr;
  check_http(cbir_collection_info(&raw, coll_), "collection");
  std::unique_ptr<cbir_collection_info_t, CbirFree> ci(raw);
  const cbir_model_info_t& m = model_info_;
  return {{"version", cbir_version_string()},
          {"model",
           {{"name", m.name},
            {"family", m.family},
            {"dim", m.dim},
            {"precision", m.precision},
            {"device", m.device},
            {"fingerprint", m.fingerprint},
            {"has_text", m.has_text != 0},
            {"has_image", m.has_image != 0}}},
          {"collection",
           {{"path", ci->path},
            {"count", ci->count},
            {"dim", ci->dim},
            {"index_spec", ci->index_spec},
            {"effective_spec", ci->effective_spec}}},
          {"limits",
           {{"max_k", limits_.max_k},
            {"max_depth", limits_.max_depth},
            {"max_text_bytes", limits_.max_text_bytes},
            {"max_upload_bytes", limits_.max_upload_bytes}}}};
}

json Gallery::item(int64_t id) const {
  cbir_item_t* raw = nullptr;
  check_http(cbir_collection_get(&raw, coll_, id), "item " + std::to_string(id));
  std::unique_ptr<cbir_item_t, CbirFree> it(raw);
  return {{"id", it->id},         {"uri", it->uri},       {"width", it->width},
          {"height", it->height}, {"size", it->size},     {"mtime", it->mtime},
          {"payload", it->payload}, {"thumb", thumb_url(it->id)}};
}

json Gallery::search_text(const std::string& text, const Page& page) const {
  check_page(page);
  if (!model_info_.has_text)
    throw HttpError(400, std::string("model ") + model_info_.name +
                             " has no text tower (an image-only bundle such as DINOv2): search "
                             "by image or by item instead");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw HttpError(400, "the query text is empty: type what to look for, e.g. 红色的圆形 or "
                         "a red circle");
  if (text.size() > limits_.max_text_bytes)
    throw HttpError(400, "the query text has " + std::to_string(text.size()) +
                             " bytes; at most " + std::to_string(limits_.max_text_bytes) +
                             " are accepted");
  if (text.find('\0') != std::string::npos)
    throw HttpError(400, "the query text contains a NUL character");
  std::vector<float> query(static_cast<size_t>(model_info_.dim));
  const char* p = text.c_str();
  auto t0 = std::chrono::steady_clock::now();
  check_http(cbir_model_embed_texts(query.data(), model_, &p, 1), "query text");
  double embed_ms = ms_since(t0);
  json out = search_vector(query, page);
  out["query"] = {{"kind", "text"}, {"text", text}};
  describe_filter(out, page);
  out["timing_ms"]["embed"] = rounded(embed_ms, 1e3);
  return out;
}

json Gallery::search_image(const std::string& bytes, const Page& page) const {
  check_page(page);
  if (!model_info_.has_image)
    throw HttpError(400, std::string("model ") + model_info_.name +
                             " has no image tower: search by text instead");
  if (bytes.empty())
    throw HttpError(400, "the uploaded image is empty: send the file's bytes");
  if (limits_.max_upload_bytes && bytes.size() > limits_.max_upload_bytes)
    throw HttpError(413, "the uploaded image has " + std::to_string(bytes.size()) +
                             " bytes; at most " + std::to_string(limits_.max_upload_bytes) +
                             " are accepted (cbir serve --max-upload-mb)");
  std::vector<float> query(static_cast<size_t>(model_info_.dim));
  const void* data = bytes.data();
  size_t size = bytes.size();
  int32_t status = CBIR_OK;
  auto t0 = std::chrono::steady_clock::now();
  check_http(cbir_model_embed_image_buffers(query.data(), &status, model_, &data, &size, 1),
             "uploaded image");
  double embed_ms = ms_since(t0);
  if (status != CBIR_OK)
    throw HttpError(http_status_of(status),
                    std::string("uploaded image: ") + cbir_model_item_error(0));
  json out = search_vector(query, page);
  out["query"] = {{"kind", "image"}, {"bytes", bytes.size()}};
  describe_filter(out, page);
  out["timing_ms"]["embed"] = rounded(embed_ms, 1e3);
  return out;
}

json Gallery::similar(int64_t id, const Page& page) const {
  check_page(page);
  json source = item(id);  // 404 for an unknown id, before searching
  // One result more than the page shows tells whether a next page exists.
  size_t n = page.offset + page.k + 1;
  std::vector<int64_t> ids(n);
  std::vector<float> scores(n);
  const std::string filter = filter_of(page);
  cbir_search_options_t opts = CBIR_SEARCH_OPTIONS_INIT;
  if (!filter.empty()) opts.where = filter.c_str();
  auto t0 = std::chrono::steady_clock::now();
  check_http(cbir_collection_search_similar(ids.data(), scores.data(), coll_, id, n, &opts),
             "item " + std::to_string(id));
  double search_ms = ms_since(t0);
  json out = results(ids, scores, page);
  out["query"] = {{"kind", "similar"}, {"id", id}, {"uri", source["uri"]},
                  {"thumb", source["thumb"]}};
  describe_filter(out, page);
  out["timing_ms"]["embed"] = 0.0;
  out["timing_ms"]["search"] = rounded(search_ms, 1e3);
  return out;
}

json Gallery::search_vector(const std::vector<float>& query, const Page& page) const {
  size_t n = page.offset + page.k + 1;
  std::vector<int64_t> ids(n);
  std::vector<float> scores(n);
  const std::string filter = filter_of(page);
  cbir_search_options_t opts = CBIR_SEARCH_OPTIONS_INIT;
  if (!filter.empty()) opts.where = filter.c_str();
  auto t0 = std::chrono::steady_clock::now();
  check_http(cbir_collection_search(ids.data(), scores.data(), coll_, query.data(), 1,
                                    query.size(), n, &opts),
             "search");
  double search_ms = ms_since(t0);
  json out = results(ids, scores, page);
  out["timing_ms"]["search"] = rounded(search_ms, 1e3);
  return out;
}

json Gallery::results(const std::vector<int64_t>& ids, const std::vector<float>& scores,
                      const Page& page) const {
  auto t0 = std::chrono::steady_clock::now();
  json list = json::array();
  size_t end = std::min(ids.size(), page.offset + page.k);
  for (size_t i = page.offset; i < end && ids[i] >= 0; ++i) {
    cbir_item_t* raw = nullptr;
    if (cbir_collection_get(&raw, coll_, ids[i]) != CBIR_OK) continue;  // removed meanwhile
    std::unique_ptr<cbir_item_t, CbirFree> it(raw);
    list.push_back({{"rank", i + 1},
                    {"id", ids[i]},
                    {"score", rounded(scores[i], 1e6)},
                    {"uri", it->uri},
                    {"width", it->width},
                    {"height", it->height},
                    {"thumb", thumb_url(ids[i])}});
  }
  size_t next = page.offset + page.k;
  bool more = next < ids.size() && ids[next] >= 0;
  return {{"k", page.k},
          {"offset", page.offset},
          {"more", more},
          {"results", list},
          {"timing_ms", {{"items", rounded(ms_since(t0), 1e3)}}}};
}

}  // namespace cli::serve
