// What the web gallery answers, independent of HTTP: searches by text, by an uploaded image and
// by a stored item ("more like this"), a page of results at a time, as JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cbir.h"

namespace cli::serve {

// Which results to return: ranks offset+1 .. offset+k, among the items a filter expression
// (docs/filters.md) and a capture-date range (YYYY-MM-DD, both ends included) select.
struct Page {
  size_t k = 24;
  size_t offset = 0;
  std::string where;
  std::string from, to;
};

struct Limits {
  size_t max_k = 200;           // results per page
  size_t max_depth = 5000;      // offset + k: how deep paging may go
  size_t max_text_bytes = 4096; // a query text (the tokenizer keeps 52 tokens anyway)
  size_t max_filter_bytes = 4096; // a filter expression
  size_t max_upload_bytes = 0;  // uploaded images (set by the command)
};

// Every method throws HttpError for a request it cannot answer (4xx) or a failure (5xx).
// Safe from many threads at once (it only reads the model and the collection).
class Gallery {
 public:
  Gallery(const cbir_model_t* model, const cbir_collection_t* coll, Limits limits);

  const Limits& limits() const { return limits_; }
  // Checks a page against the limits (throws HttpError 400 naming the parameter).
  void check_page(const Page& page) const;
  // The page's filter and date range as one filter expression ("" for none).
  static std::string filter_of(const Page& page);

  // {"model": {...}, "collection": {...}, "limits": {...}, "version": "..."}
  nlohmann::json info() const;
  // One item's stored facts: id, uri, width, height, size, mtime, payload, thumb.
  nlohmann::json item(int64_t id) const;

  // Results: {"query": {...}, "k", "offset", "more", "results": [{rank, id, score, uri,
  // width, height, thumb}], "timing_ms": {"embed", "search", "items"}}: milliseconds spent
  // embedding the query, searching the index, and reading the page's items from the catalog.
  nlohmann::json search_text(const std::string& text, const Page& page) const;
  nlohmann::json search_image(const std::string& bytes, const Page& page) const;
  nlohmann::json similar(int64_t id, const Page& page) const;

 private:
  nlohmann::json search_vector(const std::vector<float>& query, const Page& page) const;
  // Adds the page's filter to the results' "query" object.
  static void describe_filter(nlohmann::json& out, const Page& page);
  nlohmann::json results(const std::vector<int64_t>& ids, const std::vector<float>& scores,
                         const Page& page) const;

  const cbir_model_t* model_;
  const cbir_collection_t* coll_;
  cbir_model_info_t model_info_;
  Limits limits_;
};

}  // namespace cli::serve
