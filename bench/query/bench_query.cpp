// The C side of bench/query/run.py, written against cbir.h only: a whole text query (tokenize +
// encode with a model's text tower + search a collection) per index spec, with its two parts
// timed apart in the same run; with "flat" first, each ANN spec's recall@10 against flat's
// answers and its latency/recall trade-off over nprobe or efSearch.
//
//   bench_query BUNDLE COLLECTION N THREADS SECONDS QUERIES SPEC [SPEC...]
//
// COLLECTION is a folder kept between runs: when it does not hold N items it is made afresh
// with N synthetic unit vectors of the model's dimension (clustered, fixed seed). Each SPEC is a
// cbir index spec built on it with cbir_collection_rebuild() (unless it is the index the
// collection already has: build_s is then about 0). QUERIES: UTF-8 texts, one a line.
// Prints one JSON object.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cbir.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void check(int status, const char* what) {
  if (status == CBIR_OK) return;
  std::fprintf(stderr, "bench_query: %s: %s\n", what, cbir_last_error());
  std::exit(1);
}

// Calls `once(i)` with i = 0, 1, ... for at least `seconds` (and at least 20 times); returns the
// p50 and p95 of its latency in milliseconds.
std::pair<double, double> latency_ms(double seconds, const std::function<void(size_t)>& once) {
  once(0);  // warm-up
  std::vector<double> ms;
  const auto start = Clock::now();
  for (size_t i = 0; ms.size() < 20 || seconds_since(start) < seconds; ++i) {
    const auto t = Clock::now();
    once(i);
    ms.push_back(seconds_since(t) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[ms.size() * 95 / 100]};
}

uint64_t count_of(cbir_collection_t* c) {
  uint64_t n = 0;
  check(cbir_collection_count(&n, c), "count");
  return n;
}

// N unit vectors scattered around 1,000 random directions, added in batches of 10,000.
void fill(cbir_collection_t* c, size_t n, size_t dim) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> centres(1000 * dim);
  for (auto& x : centres) x = normal(rng);
  const size_t batch = 10000;
  std::vector<float> vectors(batch * dim);
  std::vector<std::string> uris(batch);
  std::vector<cbir_item_t> items(batch);
  for (size_t done = 0; done < n; done += batch) {
    const size_t m = std::min(batch, n - done);
    for (size_t i = 0; i < m; ++i) {
      const float* centre = &centres[(rng() % 1000) * dim];
      float* v = &vectors[i * dim];
      for (size_t j = 0; j < dim; ++j) v[j] = centre[j] + 0.8f * normal(rng);
      uris[i] = "synthetic/" + std::to_string(done + i) + ".jpg";
      items[i] = cbir_item_t{};
      items[i].uri = uris[i].c_str();
    }
    check(cbir_collection_add(nullptr, c, items.data(), vectors.data(), m, dim), "add");
  }
  check(cbir_collection_save(c), "save");
}

// Whether the collection's index is already `spec` (a collection made here starts as "flat").
bool has_index(const cbir_collection_t* c, const char* spec) {
  cbir_collection_info_t* info = nullptr;
  check(cbir_collection_info(&info, c), "info");
  const bool same = std::strcmp(info->effective_spec, spec) == 0;
  cbir_free(info);
  return same;
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 9) {
    std::fprintf(stderr, "usage: bench_query BUNDLE COLLECTION N THREADS SECONDS QUERIES "
                         "PRECISION SPEC [SPEC...]\n");
    return 2;
  }
  const std::string precision = argv[7];  // fp32, bf16 or auto
  const std::string dir = argv[2];
  const size_t n = std::strtoull(argv[3], nullptr, 10), k = 10;
  const double seconds = std::atof(argv[5]);

  cbir_model_options_t mo = CBIR_MODEL_OPTIONS_INIT;
  mo.device = "cpu";
  mo.threads = std::atoi(argv[4]);
  mo.precision = precision == "bf16"   ? CBIR_PRECISION_BF16
                 : precision == "auto" ? CBIR_PRECISION_AUTO
                                       : CBIR_PRECISION_FP32;
  mo.verify_hashes = 0;  // its seconds of sha256 are not what is measured here
  cbir_model_t* model = nullptr;
  check(cbir_model_open(&model, argv[1], &mo), "open model");
  cbir_model_info_t info{};
  info.version = sizeof info;
  check(cbir_model_info(&info, model), "model info");
  const size_t dim = size_t(info.dim);

  std::vector<std::string> texts;
  std::ifstream qf(argv[6]);
  for (std::string line; std::getline(qf, line);)
    if (!line.empty()) texts.push_back(line);
  if (texts.empty()) return std::fprintf(stderr, "bench_query: no texts in %s\n", argv[6]), 1;

  // Reuse the collection when it holds N items; else make it anew.
  cbir_collection_t* c = nullptr;
  cbir_collection_options_t co = CBIR_COLLECTION_OPTIONS_INIT;
  if (cbir_collection_open(&c, dir.c_str(), &co) == CBIR_OK && count_of(c) != n) {
    cbir_collection_close(c);
    c = nullptr;
  }
  double fill_s = 0;
  if (!c) {
    std::filesystem::remove_all(dir);
    co.flags = CBIR_OPEN_CREATE;
    co.dim = int32_t(dim);
    co.fingerprint = "synthetic";
    co.index_spec = "flat";
    check(cbir_collection_open(&c, dir.c_str(), &co), "create collection");
    const auto t = Clock::now();
    fill(c, n, dim);
    fill_s = seconds_since(t);
  }

  // Every text's embedding once, for the search-only figure.
  std::vector<float> embedded(texts.size() * dim);
  std::vector<const char*> ptrs;
  for (auto& t : texts) ptrs.push_back(t.c_str());
  check(cbir_model_embed_texts(embedded.data(), model, ptrs.data(), ptrs.size()), "embed");

  std::vector<float> query(dim), scores(k);
  std::vector<int64_t> ids(k);
  auto embed = [&](size_t i) {
    check(cbir_model_embed_texts(query.data(), model, &ptrs[i % ptrs.size()], 1), "embed");
  };
  auto search = [&](const float* q, const cbir_search_options_t* o) {
    check(cbir_collection_search(ids.data(), scores.data(), c, q, 1, dim, k, o), "search");
  };
  // One pass over every embedded text: p50 latency and recall@k against `truth` (the flat
  // spec's answers), which it fills while it is empty.
  std::vector<int64_t> truth;
  auto pass = [&](const cbir_search_options_t* o) {
    const bool fill_truth = truth.empty();
    std::vector<double> ms;
    size_t hits = 0;
    search(embedded.data(), o);  // warm-up
    for (size_t q = 0; q < texts.size(); ++q) {
      const auto t = Clock::now();
      search(&embedded[q * dim], o);
      ms.push_back(seconds_since(t) * 1e3);
      if (fill_truth) truth.insert(truth.end(), ids.begin(), ids.end());
      for (size_t j = 0; j < k && !fill_truth; ++j)
        hits += size_t(std::count(truth.begin() + long(q * k), truth.begin() + long((q + 1) * k), ids[j]));
    }
    std::sort(ms.begin(), ms.end());
    return std::make_pair(ms[ms.size() / 2], fill_truth ? 1.0 : double(hits) / double(texts.size() * k));
  };
  const auto text = latency_ms(seconds, embed);
  std::printf("{\"n\": %zu, \"dim\": %zu, \"k\": %zu, \"threads\": %d, \"precision\": \"%s\", "
              "\"fill_s\": %.1f, \"embed_p50_ms\": %.3f, \"embed_p95_ms\": %.3f, \"specs\": [",
              n, dim, k, mo.threads, precision.c_str(), fill_s, text.first, text.second);
  for (int a = 8; a < argc; ++a) {
    const std::string spec = argv[a];
    const auto t = Clock::now();
    if (!has_index(c, argv[a])) check(cbir_collection_rebuild(c, argv[a]), "rebuild");
    const double build_s = seconds_since(t);
    const auto only = latency_ms(seconds, [&](size_t i) { search(&embedded[(i % texts.size()) * dim], nullptr); });
    const auto whole = latency_ms(seconds, [&](size_t i) {
      embed(i);
      search(query.data(), nullptr);
    });
    std::printf("%s{\"spec\": \"%s\", \"build_s\": %.2f, \"search_p50_ms\": %.3f, \"search_p95_ms\": %.3f, "
                "\"query_p50_ms\": %.3f, \"query_p95_ms\": %.3f",
                a > 8 ? ", " : "", argv[a], build_s, only.first, only.second, whole.first, whole.second);
    // Recall against flat's answers (flat must come first), and for an ANN index its
    // latency/recall trade-off over the per-call nprobe or efSearch.
    if (spec == "flat" && truth.empty()) pass(nullptr);
    if (spec != "flat" && !truth.empty()) {
      std::printf(", \"recall\": %.4f, \"sweep\": [", pass(nullptr).second);
      const bool hnsw = spec.rfind("hnsw", 0) == 0;
      for (int v = hnsw ? 16 : 1, first = 1; v <= (hnsw ? 512 : 256); v *= 2, first = 0) {
        cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
        (hnsw ? o.ef_search : o.nprobe) = v;
        const auto r = pass(&o);
        std::printf("%s{\"%s\": %d, \"p50_ms\": %.3f, \"recall\": %.4f}", first ? "" : ", ",
                    hnsw ? "ef_search" : "nprobe", v, r.first, r.second);
      }
      std::printf("]");
    }
    std::printf("}");
    std::fflush(stdout);
  }
  std::printf("], \"peak_rss_mib\": %.1f}\n", double(peak_rss_kb()) / 1024);
  cbir_collection_close(c);
  cbir_model_close(model);
  return 0;
}
