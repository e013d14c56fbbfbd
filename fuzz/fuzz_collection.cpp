// Opening a damaged collection. A small valid collection is made once per index kind (flat,
// hnsw, ivf with sq8 codes); each input picks one and edits its files (the SQLite catalog and the
// index snapshot): truncations, overwrites with input bytes, bit flips, zeroed runs. Opening the
// result must give a clear cbir::Error or a working collection, never a crash; the snapshot's
// checksum must keep damaged bytes away from FAISS. When only the snapshot was touched the
// catalog still holds the truth, so the open must succeed with every item and pass verify().
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "fuzz_util.hpp"
#include "store/collection.hpp"

namespace fs = std::filesystem;
using namespace cbir::store;

namespace {

constexpr size_t kDim = 4;
constexpr size_t kItems = 80;  // ivf:nlist=2 trains on at least 78
constexpr size_t kRemoved = 3;

struct Template {
  std::vector<std::pair<std::string, std::string>> files;  // name, bytes
};
std::vector<Template> g_templates;
std::string g_work;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

float component(size_t item, size_t c) { return std::sin(float(item * kDim + c) * 0.7f) + 0.1f; }

Template make_template(const std::string& dir, const char* spec) {
  {
    OpenOptions o;
    o.create = true;
    o.dim = kDim;
    o.fingerprint = "sha256:fuzz";
    const bool trained = std::string(spec).rfind("ivf", 0) == 0;  // built by a rebuild
    o.index_spec = trained ? "flat" : spec;
    Collection c(dir, o);
    std::vector<ItemInfo> items(kItems);
    std::vector<float> vectors(kItems * kDim);
    for (size_t i = 0; i < kItems; ++i) {
      items[i].uri = "img/" + std::to_string(i) + ".jpg";
      items[i].payload = "{\"n\":" + std::to_string(i) + "}";
      for (size_t d = 0; d < kDim; ++d) vectors[i * kDim + d] = component(i, d);
    }
    std::vector<int64_t> ids = c.add(items.data(), vectors.data(), kItems, kDim, false);
    if (trained) c.rebuild(spec);
    c.remove(ids.data(), kRemoved);
    c.close();
  }
  Template t;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != "lock") t.files.emplace_back(e.path().filename(), slurp(e.path()));
  std::sort(t.files.begin(), t.files.end());
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string& root = cbir::fuzz::scratch_dir();
  int n = 0;
  for (const char* spec : {"flat", "hnsw:M=8", "ivf:nlist=2,code=sq8"}) {
    std::string dir = root + "/template" + std::to_string(n++);
    fs::create_directory(dir);
    g_templates.push_back(make_template(dir, spec));
  }
  g_work = root + "/work";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cbir::fuzz::Reader in(data, size);
  std::vector<std::pair<std::string, std::string>> files =
      g_templates[in.u8() % g_templates.size()].files;
  bool catalog_touched = false;
  for (int edit = 0; edit < 16 && !in.empty(); ++edit) {
    const size_t which = in.u8() % files.size();
    std::string& bytes = files[which].second;
    const uint8_t op = in.u8() % 4;
    const size_t at = in.u32() % (bytes.size() + 1);
    if (files[which].first.rfind("catalog", 0) == 0) catalog_touched = true;
    switch (op) {
      case 0: bytes.resize(at); break;
      case 1: {
        std::string patch = in.bytes(255);
        if (at + patch.size() > bytes.size()) bytes.resize(at + patch.size());
        bytes.replace(at, patch.size(), patch);
        break;
      }
      case 2:
        if (at < bytes.size()) bytes[at] ^= char(1u << (in.u8() % 8));
        break;
      default: {
        size_t n = std::min<size_t>(in.u8() + 1, bytes.size() - at);
        bytes.replace(at, n, n, '\0');
      }
    }
  }

  std::error_code ec;
  fs::remove_all(g_work, ec);
  fs::create_directory(g_work);
  for (const auto& [name, bytes] : files) cbir::fuzz::write_file(g_work + "/" + name, bytes);

  const float query[kDim] = {0.3f, -0.2f, 0.9f, 0.1f};
  try {
    OpenOptions o;
    Collection c(g_work, o);
    const uint64_t count = c.count();
    float scores[5];
    int64_t ids[5];
    c.search(query, 1, kDim, 5, SearchFilter{}, -1e30f, SearchKnobs{}, scores, ids);
    if (count > 0 && ids[0] < 0) __builtin_trap();  // a non-empty collection finds something
    if (!catalog_touched && count != kItems - kRemoved) __builtin_trap();  // lost or doubled
    try {
      c.verify();
    } catch (const cbir::Error&) {
      if (!catalog_touched) __builtin_trap();  // the catalog alone must be enough to recover
      throw;
    }
    if (ids[0] >= 0) c.similar(ids[0], 3, SearchFilter{}, -1e30f, SearchKnobs{}, scores, ids);
    c.close();
  } catch (const cbir::Error&) {
    if (!catalog_touched) __builtin_trap();
  }
  return 0;
}
