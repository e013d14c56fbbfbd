// The collection's benchmark: cbir (through its C API) side by side with raw FAISS on the same
// synthetic data in the same run. Not a test: it prints figures (see bench/README.md, "Collection").
//
// CLI (stable; bench/run calls it through run.sh):
//   bench_store [--n 1000000] [--dim 512] [--clusters 2000] [--queries 200] [--k 10]
//               [--specs flat,hnsw,ivf,ivf-sq8,ivf-sq8-rerank,ivf-pq,ivf-pq-rerank]
//               [--flat-queries 50] [--nlist N] [--nprobe 32] [--ef-search 64]
//               [--dir /tmp/cbir-bench-store] [--json PATH] [--quick]
//   --quick: --n 20000 --queries 100 (about a minute on 2 cores). --json PATH: the figures as
//   JSON as well. --nlist (default by n: 16, 128 from 10k, 1024 from 100k), --nprobe and
//   --ef-search set the ivf and hnsw specs, on both sides. --dir: scratch folder; the generated
//   data and exact answers are cached there (data-N-DIM-CLUSTERS.f32, truth-...), the
//   collection is made afresh each run.
//
// Data: n + queries unit vectors from a mixture of Gaussians around random centres (spread
// varying per cluster), generated with a fixed seed, never shipped. Bulk add through the C API
// (batches of 10,000, a commit every 100,000) against raw FAISS IndexFlatIP.add. Per index spec:
// cbir rebuild (all cores), then open time and RSS of a fresh read-only process, then
// single-query latency p50/p95 on one thread (cbir_set_threads(1), which also sets OpenMP and
// OpenBLAS) and recall@k against the exact answer, for cbir and for the very same FAISS index
// read from cbir's snapshot and searched directly with the same efSearch/nprobe/re-rank.
// flat is timed on the first --flat-queries queries only (each one scans everything).
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexRefine.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cbir.h"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void check(int status, const char* what) {
  if (status != CBIR_OK) {
    std::fprintf(stderr, "bench_store: %s: %s\n", what, cbir_last_error());
    std::exit(1);
  }
}

struct Args {
  size_t n = 1000000, dim = 512, clusters = 2000, queries = 200, k = 10, flat_queries = 50;
  int nlist = 0, nprobe = 32, ef_search = 64;
  std::string specs = "flat,hnsw,ivf,ivf-sq8,ivf-sq8-rerank,ivf-pq,ivf-pq-rerank";
  std::string dir = "/tmp/cbir-bench-store";
  std::string json;
};

// Named specs -> cbir index specs (FAISS's settings follow from them).
std::map<std::string, std::string> spec_table(const Args& a) {
  // ~sqrt(n) lists: k-means on 2 cores stays at a minute or so at 1M.
  const int nlist = a.nlist > 0 ? a.nlist : a.n >= 100000 ? 1024 : a.n >= 10000 ? 128 : 16;
  const std::string ivf = "ivf:nlist=" + std::to_string(nlist) + ",nprobe=" + std::to_string(a.nprobe) + ",code=";
  return {
      {"flat", "flat"},
      {"hnsw", "hnsw:M=32,efConstruction=40,efSearch=" + std::to_string(a.ef_search)},
      {"ivf", ivf + "flat"},
      {"ivf-sq8", ivf + "sq8"},
      {"ivf-sq8-rerank", ivf + "sq8,rerank=4"},
      {"ivf-pq", ivf + "pq64x8"},
      {"ivf-pq-rerank", ivf + "pq64x8,rerank=10"},
  };
}

// Unit vectors around `clusters` random centres; the spread differs per cluster.
std::vector<float> make_data(size_t n, size_t dim, size_t clusters, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> centres(clusters * dim);
  std::vector<float> spread(clusters);
  for (size_t c = 0; c < clusters; ++c) {
    double s = 0;
    for (size_t j = 0; j < dim; ++j) s += std::pow(centres[c * dim + j] = g(rng), 2);
    for (size_t j = 0; j < dim; ++j) centres[c * dim + j] /= float(std::sqrt(s));
    spread[c] = (0.3f + 0.5f * float(rng() % 1000) / 1000.0f) / std::sqrt(float(dim));
  }
  std::vector<float> x(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = rng() % clusters;
    float* v = x.data() + i * dim;
    double s = 0;
    for (size_t j = 0; j < dim; ++j) s += std::pow(v[j] = centres[c * dim + j] + spread[c] * g(rng), 2);
    for (size_t j = 0; j < dim; ++j) v[j] /= float(std::sqrt(s));
  }
  return x;
}

// A vector cached under the scratch folder, made by `make` when absent.
template <class T, class Make>
std::vector<T> cached(const std::string& path, size_t count, Make make) {
  std::vector<T> v(count);
  std::ifstream in(path, std::ios::binary);
  if (in.read(reinterpret_cast<char*>(v.data()), std::streamsize(count * sizeof(T))) && in.gcount() == std::streamsize(count * sizeof(T)))
    return v;
  v = make();
  std::ofstream out(path + ".part", std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()), std::streamsize(count * sizeof(T)));
  out.close();
  std::filesystem::rename(path + ".part", path);
  return v;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

double recall(const std::vector<int64_t>& got, const std::vector<int64_t>& truth, size_t nq, size_t k) {
  size_t hit = 0;
  for (size_t q = 0; q < nq; ++q) {
    std::set<int64_t> t(truth.begin() + long(q * k), truth.begin() + long((q + 1) * k));
    for (size_t j = 0; j < k; ++j) hit += t.count(got[q * k + j]);
  }
  return double(hit) / double(nq * k);
}

long rss_kb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  return -1;
}

struct Latency {
  double p50 = 0, p95 = 0, recall = 0;
};

// Times `search(q, labels_out)` once per query (after one warm-up pass over a few of them).
template <class Search>
Latency time_queries(size_t nq, size_t k, const std::vector<int64_t>& truth, Search search) {
  std::vector<int64_t> ids(nq * k);
  std::vector<double> lat(nq);
  for (size_t q = 0; q < std::min<size_t>(nq, 20); ++q) search(q, ids.data() + q * k);
  for (size_t q = 0; q < nq; ++q) {
    auto t0 = Clock::now();
    search(q, ids.data() + q * k);
    lat[q] = ms_since(t0);
  }
  return {percentile(lat, 0.5), percentile(lat, 0.95), recall(ids, truth, nq, k)};
}

// The FAISS index inside cbir's snapshot (layout: docs/collection.md, "Snapshot format"):
// 32-byte header, dim u32, watermark i64, generation i64, spec length u32 + spec, slot count u64
// + slot ids, masked u64, re-rank float count u64 + floats, layout u32, then FAISS's own format
// (layout 0) or the flat index's vectors (layout 1).
std::unique_ptr<faiss::Index> faiss_from_snapshot(const std::string& path, std::vector<float>* exact) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::perror(path.c_str());
    std::exit(1);
  }
  auto rd = [&](void* p, size_t n) {
    if (std::fread(p, 1, n, f) != n) {
      std::fprintf(stderr, "bench_store: %s is shorter than its layout\n", path.c_str());
      std::exit(1);
    }
  };
  std::vector<char> skip(32 + 4 + 8 + 8);
  rd(skip.data(), skip.size());
  uint32_t dim = 0;
  std::memcpy(&dim, skip.data() + 32, 4);
  uint32_t spec_len = 0;
  rd(&spec_len, 4);
  std::fseek(f, long(spec_len), SEEK_CUR);
  uint64_t nslots = 0, masked = 0, nexact = 0;
  rd(&nslots, 8);
  std::fseek(f, long(nslots * 8), SEEK_CUR);
  rd(&masked, 8);
  rd(&nexact, 8);
  exact->resize(nexact);
  rd(exact->data(), nexact * 4);
  uint32_t layout = 0;
  rd(&layout, 4);
  std::unique_ptr<faiss::Index> idx;
  if (layout == 1) {
    auto flat = std::make_unique<faiss::IndexFlatIP>(int(dim));
    flat->codes.resize(nslots * size_t(dim) * sizeof(float));
    rd(flat->codes.data(), flat->codes.size());
    flat->ntotal = faiss::Index::idx_t(nslots);
    idx = std::move(flat);
  } else {
    idx.reset(faiss::read_index(f));
  }
  std::fclose(f);
  return idx;
}

// Child process: open the collection read-only, write "open_ms rss_mib peak_mib" to `out`.
int open_only(const std::string& dir, const std::string& out) {
  const long before = rss_kb("VmRSS:");
  auto t = Clock::now();
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = CBIR_OPEN_READONLY;
  cbir_collection_t* c = nullptr;
  check(cbir_collection_open(&c, dir.c_str(), &o), "open");
  const double open_ms = ms_since(t);
  std::ofstream(out) << open_ms << " " << double(rss_kb("VmRSS:") - before) / 1024 << " "
                     << double(rss_kb("VmHWM:")) / 1024 << "\n";
  cbir_collection_close(c);
  return 0;
}

struct Open {
  double ms = 0, rss_mib = 0, peak_mib = 0;
};

Open open_in_child(const char* self, const std::string& dir) {
  const std::string out = dir + ".open.txt";
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    execl(self, self, "--open-only", dir.c_str(), out.c_str(), (char*)nullptr);
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  Open o;
  std::ifstream(out) >> o.ms >> o.rss_mib >> o.peak_mib;
  return o;
}

void usage() {
  std::fprintf(stderr, "usage: bench_store [--n N] [--dim D] [--clusters C] [--queries Q] [--k K] "
                       "[--specs flat,hnsw,ivf,ivf-sq8,ivf-sq8-rerank,ivf-pq,ivf-pq-rerank] [--flat-queries F] "
                       "[--nlist N] [--nprobe P] [--ef-search E] "
                       "[--dir DIR] [--json PATH] [--quick]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--open-only") return open_only(argv[2], argv[3]);
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (f == "--n") a.n = std::stoul(val());
    else if (f == "--dim") a.dim = std::stoul(val());
    else if (f == "--clusters") a.clusters = std::stoul(val());
    else if (f == "--queries") a.queries = std::stoul(val());
    else if (f == "--k") a.k = std::stoul(val());
    else if (f == "--flat-queries") a.flat_queries = std::stoul(val());
    else if (f == "--specs") a.specs = val();
    else if (f == "--nlist") a.nlist = std::stoi(val());
    else if (f == "--nprobe") a.nprobe = std::stoi(val());
    else if (f == "--ef-search") a.ef_search = std::stoi(val());
    else if (f == "--dir") a.dir = val();
    else if (f == "--json") a.json = val();
    else if (f == "--quick") a.n = 20000, a.queries = 100;
    else usage();
  }
  const size_t n = a.n, dim = a.dim, nq = a.queries, k = a.k;
  double load[3] = {0, 0, 0};
  if (std::FILE* la = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
    std::fclose(la);
  }
  std::printf("# bench_store: n=%zu dim=%zu clusters=%zu queries=%zu k=%zu; load average %.1f %.1f %.1f\n# %s\n",
              n, dim, a.clusters, nq, k, load[0], load[1], load[2], cbir_build_info());
  std::ostringstream js;
  js << "{\"n\": " << n << ", \"dim\": " << dim << ", \"clusters\": " << a.clusters << ", \"queries\": " << nq
     << ", \"k\": " << k << ", \"load_average\": [" << load[0] << ", " << load[1] << ", " << load[2] << "]";

  std::filesystem::create_directories(a.dir);
  const std::string tag = std::to_string(n) + "-" + std::to_string(dim) + "-" + std::to_string(a.clusters);
  auto t = Clock::now();
  const std::vector<float> all = cached<float>(a.dir + "/data-" + tag + "-" + std::to_string(nq) + ".f32",
                                               (n + nq) * dim, [&] { return make_data(n + nq, dim, a.clusters, 42); });
  const float* xb = all.data();
  const float* xq = all.data() + n * dim;
  std::printf("data: %zu vectors in %.1f s (cached under %s)\n", n + nq, ms_since(t) / 1000, a.dir.c_str());

  // Exact answers, as cbir ids (1-based insertion order).
  t = Clock::now();
  const std::vector<int64_t> truth = cached<int64_t>(
      a.dir + "/truth-" + tag + "-" + std::to_string(nq) + "-" + std::to_string(k) + ".i64", nq * k, [&] {
        std::vector<int64_t> ids(nq * k);
        std::vector<float> d(nq * k);
        faiss::float_minheap_array_t heap{nq, k, ids.data(), d.data()};
        faiss::knn_inner_product(xq, xb, dim, nq, n, &heap);
        for (auto& id : ids) id += 1;
        return ids;
      });
  std::printf("exact answers: %.1f s\n", ms_since(t) / 1000);

  // Bulk add through the C API: batches of 10,000, a commit every 100,000.
  const std::string coll_dir = a.dir + "/collection";
  std::error_code ec;
  std::filesystem::remove_all(coll_dir, ec);
  {
    cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
    o.flags = CBIR_OPEN_CREATE;
    o.dim = int32_t(dim);
    o.fingerprint = "bench";
    o.index_spec = "flat";
    cbir_collection_t* c = nullptr;
    check(cbir_collection_open(&c, coll_dir.c_str(), &o), "create");
    const size_t batch = 10000;
    std::vector<std::string> uris(batch);
    std::vector<cbir_item_t> items(batch);
    t = Clock::now();
    for (size_t i = 0; i < n; i += batch) {
      const size_t m = std::min(batch, n - i);
      for (size_t j = 0; j < m; ++j) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "photos/%04zu/img_%07zu.jpg", (i + j) / 1000, i + j);
        uris[j] = buf;
        items[j] = cbir_item_t{};
        items[j].uri = uris[j].c_str();
        items[j].content_hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        items[j].size = int64_t(100000 + j);
        items[j].mtime = 1700000000;
        items[j].width = 640;
        items[j].height = 480;
      }
      check(cbir_collection_add(nullptr, c, items.data(), xb + i * dim, m, dim), "add");
      if ((i + m) % 100000 == 0 || i + m == n) check(cbir_collection_commit(c), "commit");
    }
    const double add_s = ms_since(t) / 1000;
    t = Clock::now();
    check(cbir_collection_save(c), "save");
    const double save_s = ms_since(t) / 1000;
    cbir_collection_close(c);

    double raw_add_s = 0;
    {
      faiss::IndexFlatIP raw{static_cast<faiss::Index::idx_t>(dim)};
      t = Clock::now();
      for (size_t i = 0; i < n; i += batch) raw.add(faiss::Index::idx_t(std::min(batch, n - i)), xb + i * dim);
      raw_add_s = ms_since(t) / 1000;
    }
    uintmax_t bytes = 0;
    for (auto& e : std::filesystem::directory_iterator(coll_dir)) bytes += e.file_size();
    std::printf("\n## bulk add (flat)\ncbir: %.0f vectors/s (%.1f s, commits every 100k; save %.1f s; %.0f MiB on disk)\n"
                "raw FAISS IndexFlatIP.add: %.0f vectors/s (memory only)\n",
                double(n) / add_s, add_s, save_s, double(bytes) / (1 << 20), double(n) / raw_add_s);
    js << ", \"bulk_add\": {\"cbir_vectors_per_s\": " << double(n) / add_s << ", \"save_s\": " << save_s
       << ", \"disk_mib\": " << double(bytes) / (1 << 20) << ", \"faiss_vectors_per_s\": " << double(n) / raw_add_s << "}";
  }

  // Per spec: build, open in a fresh process, then single-query latency and recall, ours and
  // FAISS's on the same index.
  cbir_collection_t* c = nullptr;
  check(cbir_collection_open(&c, coll_dir.c_str(), nullptr), "open");
  const auto table = spec_table(a);
  std::printf("\n## per spec: build (all cores), open read-only in a fresh process, one query at a time on one thread (k=%zu)\n", k);
  std::printf("| spec | build s | cbir p50 ms | cbir p95 ms | FAISS p50 ms | FAISS p95 ms | p50 ratio | cbir recall | FAISS recall | open ms | RSS MiB |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  js << ", \"specs\": [";
  std::stringstream names(a.specs);
  std::string name;
  bool first = true;
  while (std::getline(names, name, ',')) {
    auto it = table.find(name);
    if (it == table.end()) {
      std::fprintf(stderr, "bench_store: unknown spec %s\n", name.c_str());
      usage();
    }
    const std::string& spec = it->second;
    std::fflush(stdout);
    check(cbir_set_threads(0), "threads");
    t = Clock::now();
    check(cbir_collection_rebuild(c, spec.c_str()), "rebuild");
    check(cbir_collection_save(c), "save");
    const double build_s = ms_since(t) / 1000;
    const Open open = open_in_child(argv[0], coll_dir);

    check(cbir_set_threads(1), "threads");
    const size_t tq = name == "flat" ? std::min(nq, a.flat_queries) : nq;
    const std::vector<int64_t> tr(truth.begin(), truth.begin() + long(tq * k));
    std::vector<float> scores(k);
    Latency ours = time_queries(tq, k, tr, [&](size_t q, int64_t* ids) {
      check(cbir_collection_search(ids, scores.data(), c, xq + q * dim, 1, dim, k, nullptr), "search");
    });

    // The same FAISS index, searched directly with the same settings.
    std::vector<float> exact;
    auto raw = faiss_from_snapshot(coll_dir + "/index.snap", &exact);
    std::unique_ptr<faiss::IndexRefineFlat> refine;
    faiss::Index* target = raw.get();
    if (auto r = spec.find("rerank="); r != std::string::npos) {
      refine = std::make_unique<faiss::IndexRefineFlat>(raw.get(), exact.data());
      refine->k_factor = float(std::atoi(spec.c_str() + r + 7));
      target = refine.get();
    }
    if (auto h = dynamic_cast<faiss::IndexHNSW*>(raw.get())) h->hnsw.efSearch = a.ef_search;
    if (auto v = dynamic_cast<faiss::IndexIVF*>(raw.get())) v->nprobe = size_t(a.nprobe);
    std::vector<float> d(k);
    Latency theirs = time_queries(tq, k, tr, [&](size_t q, int64_t* ids) {
      target->search(1, xq + q * dim, faiss::Index::idx_t(k), d.data(), ids);
      for (size_t j = 0; j < k; ++j) ids[j] += 1;  // slots -> cbir ids (insertion order)
    });
    std::printf("| %s | %.1f | %.3f | %.3f | %.3f | %.3f | %.2f | %.3f | %.3f | %.0f | %.0f |\n", spec.c_str(), build_s,
                ours.p50, ours.p95, theirs.p50, theirs.p95, ours.p50 / theirs.p50, ours.recall, theirs.recall,
                open.ms, open.peak_mib);
    js << (first ? "" : ", ") << "{\"name\": \"" << name << "\", \"spec\": \"" << spec << "\", \"build_s\": " << build_s
       << ", \"queries\": " << tq << ", \"cbir_p50_ms\": " << ours.p50 << ", \"cbir_p95_ms\": " << ours.p95
       << ", \"cbir_recall\": " << ours.recall << ", \"faiss_p50_ms\": " << theirs.p50
       << ", \"faiss_p95_ms\": " << theirs.p95 << ", \"faiss_recall\": " << theirs.recall
       << ", \"p50_ratio\": " << ours.p50 / theirs.p50 << ", \"open_ms\": " << open.ms
       << ", \"open_rss_mib\": " << open.rss_mib << ", \"open_peak_rss_mib\": " << open.peak_mib << "}";
    first = false;
    std::fflush(stdout);
  }
  cbir_collection_close(c);
  js << "], \"peak_rss_mib\": " << double(rss_kb("VmHWM:")) / 1024 << "}\n";
  std::printf("\npeak RSS of this process (data, exact answers, cbir and FAISS side by side): %.0f MiB\n",
              double(rss_kb("VmHWM:")) / 1024);
  if (!a.json.empty()) std::ofstream(a.json) << js.str();
  return 0;
}
