// Filter expressions: any bytes either compile, and then the SQL they compile to runs on a
// real catalog (SQLite must accept every compiler output: a refusal there is a compiler bug and
// aborts), or are refused with CBIR_EINVAL / CBIR_EUNSUPPORTED, never anything else; and the
// collection is never changed by a filter.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "fuzz_util.hpp"
#include "query/filter.hpp"
#include "store/collection.hpp"

using namespace cbir::store;

namespace {

constexpr size_t kDim = 4, kItems = 20;

Collection& collection() {
  static Collection* c = [] {
    OpenOptions o;
    o.create = true;
    o.dim = kDim;
    o.fingerprint = "sha256:fuzz";
    auto* coll = new Collection(cbir::fuzz::scratch_dir() + "/filter", o);
    std::vector<ItemInfo> items(kItems);
    std::vector<float> vectors(kItems * kDim, 0.5f);
    for (size_t i = 0; i < kItems; ++i) {
      items[i].uri = "/photos/" + std::to_string(i) + (i % 2 ? ".jpg" : ".png");
      items[i].size = int64_t(i * 1000);
      items[i].mtime = 1700000000 + int64_t(i) * 86400;
      items[i].width = int32_t(100 * i);
      items[i].height = int32_t(50 * i);
      vectors[i * kDim + i % kDim] = 1.0f;
    }
    coll->add(items.data(), vectors.data(), kItems, kDim, false);
    coll->commit();
    return coll;
  }();
  return *c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string expr(reinterpret_cast<const char*>(data), size);
  SearchFilter filter;
  try {
    filter.where = cbir::query::compile_filter(expr);
  } catch (const cbir::Error& e) {
    if (e.code() != CBIR_EINVAL && e.code() != CBIR_EUNSUPPORTED) std::abort();
    return 0;
  }
  Collection& c = collection();
  const float query[kDim] = {1, 0, 0, 0};
  float scores[kItems];
  int64_t ids[kItems];
  try {
    c.search(query, 1, kDim, kItems, filter, -2.0f, SearchKnobs{}, scores, ids);
  } catch (const cbir::Error&) {
    std::abort();  // the compiler wrote SQL that SQLite refuses
  }
  if (c.count() != kItems) std::abort();
  return 0;
}
