// Helpers shared by the collection tests: temporary folders, seeded vectors, an exact reference
// search, and small wrappers over the C API that fail the test with cbir_last_error().
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cbir.h"

namespace store_test {

// A fresh folder under the system's temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cbir-store-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// n unit vectors of `dim`, seeded.
inline std::vector<float> unit_vectors(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> v(n * dim);
  for (size_t i = 0; i < n; ++i) {
    double s = 0;
    for (size_t j = 0; j < dim; ++j) {
      v[i * dim + j] = g(rng);
      s += double(v[i * dim + j]) * v[i * dim + j];
    }
    for (size_t j = 0; j < dim; ++j) v[i * dim + j] = float(v[i * dim + j] / std::sqrt(s));
  }
  return v;
}

// Clustered unit vectors (a mixture of `clusters` Gaussians), closer to real embeddings.
inline std::vector<float> clustered_vectors(size_t n, size_t dim, size_t clusters, uint32_t seed) {
  std::vector<float> centers = unit_vectors(clusters, dim, seed + 1);
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 0.6f / std::sqrt(float(dim)));
  std::vector<float> v(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const float* c = centers.data() + (rng() % clusters) * dim;
    double s = 0;
    for (size_t j = 0; j < dim; ++j) {
      v[i * dim + j] = c[j] + g(rng);
      s += double(v[i * dim + j]) * v[i * dim + j];
    }
    for (size_t j = 0; j < dim; ++j) v[i * dim + j] = float(v[i * dim + j] / std::sqrt(s));
  }
  return v;
}

inline float dot(const float* a, const float* b, size_t dim) {
  double s = 0;
  for (size_t j = 0; j < dim; ++j) s += double(a[j]) * b[j];
  return float(s);
}

// Exact top-k ids among (ids, vectors) for one query.
inline std::vector<int64_t> exact_top(const std::vector<int64_t>& ids, const std::vector<float>& vecs,
                                      size_t dim, const float* q, size_t k) {
  std::vector<std::pair<float, int64_t>> s;
  for (size_t i = 0; i < ids.size(); ++i) s.emplace_back(dot(q, vecs.data() + i * dim, dim), ids[i]);
  std::sort(s.begin(), s.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<int64_t> out;
  for (size_t i = 0; i < std::min(k, s.size()); ++i) out.push_back(s[i].second);
  return out;
}

inline void ok(int status) {
  INFO("status " << status << " (" << cbir_status_str(status) << "): " << cbir_last_error());
  REQUIRE(status == CBIR_OK);
}

struct Closer {
  void operator()(cbir_collection_t* c) const { cbir_collection_close(c); }
};
using Handle = std::unique_ptr<cbir_collection_t, Closer>;

inline Handle open(const std::string& path, uint32_t flags = 0, int32_t dim = 0,
                   const char* spec = nullptr, const char* fingerprint = nullptr) {
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = flags;
  o.dim = dim;
  o.index_spec = spec;
  o.fingerprint = fingerprint;
  cbir_collection_t* c = nullptr;
  ok(cbir_collection_open(&c, path.c_str(), &o));
  return Handle(c);
}

inline Handle create(const std::string& path, int32_t dim, const char* spec = "flat") {
  return open(path, CBIR_OPEN_CREATE, dim, spec, "test-model");
}

// Items with just a uri; they own their strings (cbir_item_t only points at them).
struct Items {
  std::vector<std::string> uris;
  std::vector<cbir_item_t> items;
  cbir_item_t* data() {
    items.assign(uris.size(), cbir_item_t{});
    for (size_t i = 0; i < uris.size(); ++i) items[i].uri = uris[i].c_str();
    return items.data();
  }
};

inline Items items_for(std::vector<std::string> uris) { return Items{std::move(uris), {}}; }

inline std::vector<std::string> uris(const std::string& prefix, size_t n, size_t first = 0) {
  std::vector<std::string> u;
  for (size_t i = 0; i < n; ++i) u.push_back(prefix + std::to_string(first + i));
  return u;
}

// Adds vectors under the given uris and returns their ids.
inline std::vector<int64_t> add(cbir_collection_t* c, const std::vector<std::string>& u,
                                const std::vector<float>& vecs, size_t dim) {
  auto items = items_for(u);
  std::vector<int64_t> ids(u.size());
  ok(cbir_collection_add(ids.data(), c, items.data(), vecs.data(), u.size(), dim));
  return ids;
}

struct Results {
  std::vector<int64_t> ids;
  std::vector<float> scores;
};

inline Results search(const cbir_collection_t* c, const float* q, size_t nq, size_t dim, size_t k,
                      const cbir_search_options_t* opts = nullptr) {
  Results r{std::vector<int64_t>(nq * k), std::vector<float>(nq * k)};
  ok(cbir_collection_search(r.ids.data(), r.scores.data(), c, q, nq, dim, k, opts));
  return r;
}

inline uint64_t count(const cbir_collection_t* c) {
  uint64_t n = 0;
  ok(cbir_collection_count(&n, c));
  return n;
}

// Every id in the collection, through cbir_collection_list().
inline std::vector<int64_t> all_ids(const cbir_collection_t* c) {
  std::vector<int64_t> out;
  std::vector<int64_t> page(7);
  int64_t after = -1;
  for (;;) {
    size_t n = 0;
    ok(cbir_collection_list(page.data(), &n, c, after, page.size()));
    if (n == 0) return out;
    out.insert(out.end(), page.begin(), page.begin() + long(n));
    after = page[n - 1];
  }
}

inline std::string effective_spec(const cbir_collection_t* c) {
  cbir_collection_info_t* info = nullptr;
  ok(cbir_collection_info(&info, c));
  std::string s = info->effective_spec;
  cbir_free(info);
  return s;
}

// Log messages, for checking that recovery warns.
struct LogCapture {
  LogCapture() { cbir_set_log_callback(&LogCapture::on_log, this, CBIR_LOG_WARN); }
  ~LogCapture() { cbir_set_log_callback(nullptr, nullptr, CBIR_LOG_WARN); }
  static void on_log(void* self, int32_t, const char* message) {
    auto* me = static_cast<LogCapture*>(self);
    std::lock_guard<std::mutex> lock(me->mu);
    me->lines.push_back(message);
  }
  bool saw(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
  std::mutex mu;
  std::vector<std::string> lines;
};

}  // namespace store_test
