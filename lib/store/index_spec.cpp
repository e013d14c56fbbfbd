#include "store/index_spec.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include "common/error.hpp"

namespace cbir::store {

namespace {

constexpr size_t kAutoFlatMax = 100000;      // exact search stays under ~15 ms up to here
constexpr size_t kPointsPerCentroid = 39;    // FAISS k-means wants at least this many per centroid

const char* kSpecHelp =
    "index specs are: flat | hnsw[:M=32,efConstruction=40,efSearch=64] | "
    "ivf[:nlist=N,nprobe=N,code=flat|sq8|pq<m>x<bits>,rerank=R] | faiss:<factory string> | auto";

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  fail(CBIR_EINVAL, "invalid index spec '" + text + "': " + why + " (" + kSpecHelp + ")");
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int parse_int(const std::string& text, const std::string& key, const std::string& value, int lo,
              int hi) {
  if (value.empty() || value.size() > 9 ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    bad(text, key + " needs a whole number, got '" + value + "'");
  int v = std::stoi(value);
  if (v < lo || v > hi)
    bad(text, key + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

// "pq", "pq64", "pq64x8" -> (m, bits); m = 0 means chosen from the dimension.
void parse_pq(const std::string& text, const std::string& value, IndexSpec& s) {
  std::string rest = value.substr(2);
  size_t x = rest.find('x');
  std::string m = rest.substr(0, x);
  if (!m.empty()) s.pq_m = parse_int(text, "the pq sub-quantizer count", m, 1, 4096);
  if (x != std::string::npos) s.pq_bits = parse_int(text, "the pq bits", rest.substr(x + 1), 4, 12);
}

uint32_t round_pow2(double v) {
  uint32_t p = 1;
  while (p * 2.0 <= v) p *= 2;
  return (v - p > p * 2.0 - v) ? p * 2 : p;
}

}  // namespace

uint64_t default_memory_budget() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return uint64_t{4} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 2;
}

IndexSpec IndexSpec::parse(const std::string& text) {
  IndexSpec s;
  size_t colon = text.find(':');
  std::string name = lower(text.substr(0, colon));
  std::string args = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (colon != std::string::npos && args.empty()) bad(text, "nothing after ':'");
  if (name == "faiss") {
    if (args.empty()) bad(text, "faiss: needs a FAISS factory string, e.g. faiss:IVF256,PQ32");
    s.kind = IndexKind::Faiss;
    s.factory = args;
    return s;
  }
  if (name == "flat" || name == "auto") {
    if (!args.empty()) bad(text, name + " takes no parameters");
    s.kind = name == "flat" ? IndexKind::Flat : IndexKind::Auto;
    return s;
  }
  if (name == "hnsw")
    s.kind = IndexKind::Hnsw;
  else if (name == "ivf")
    s.kind = IndexKind::Ivf;
  else
    bad(text, "unknown index kind '" + name + "'");

  size_t pos = 0;
  while (pos < args.size()) {
    size_t comma = args.find(',', pos);
    std::string item = args.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? args.size() : comma + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos) bad(text, "'" + item + "' is not key=value");
    std::string key = lower(item.substr(0, eq));
    std::string value = lower(item.substr(eq + 1));
    if (s.kind == IndexKind::Hnsw && key == "m")
      s.hnsw_m = parse_int(text, "M", value, 4, 256);
    else if (s.kind == IndexKind::Hnsw && key == "efconstruction")
      s.ef_construction = parse_int(text, "efConstruction", value, 1, 4096);
    else if (s.kind == IndexKind::Hnsw && key == "efsearch")
      s.ef_search = parse_int(text, "efSearch", value, 1, 65536);
    else if (s.kind == IndexKind::Ivf && key == "nlist")
      s.nlist = value == "auto" ? 0 : parse_int(text, "nlist", value, 1, 1 << 20);
    else if (s.kind == IndexKind::Ivf && key == "nprobe")
      s.nprobe = value == "auto" ? 0 : parse_int(text, "nprobe", value, 1, 1 << 20);
    else if (s.kind == IndexKind::Ivf && key == "rerank")
      s.rerank = parse_int(text, "rerank", value, 0, 100);
    else if (s.kind == IndexKind::Ivf && key == "code") {
      if (value == "flat")
        s.code = IvfCode::Flat;
      else if (value == "sq8")
        s.code = IvfCode::Sq8;
      else if (value.rfind("pq", 0) == 0) {
        s.code = IvfCode::Pq;
        parse_pq(text, value, s);
      } else {
        bad(text, "code must be flat, sq8 or pq[<m>[x<bits>]]");
      }
    } else {
      bad(text, "unknown parameter '" + key + "' for " + name);
    }
  }
  if (s.kind == IndexKind::Ivf && s.nlist > 0 && s.nprobe > s.nlist)
    bad(text, "nprobe cannot exceed nlist");
  return s;
}

std::string IndexSpec::str() const {
  auto num = [](int v) { return v == 0 ? std::string("auto") : std::to_string(v); };
  switch (kind) {
    case IndexKind::Flat: return "flat";
    case IndexKind::Auto: return "auto";
    case IndexKind::Faiss: return "faiss:" + factory;
    case IndexKind::Hnsw:
      return "hnsw:M=" + std::to_string(hnsw_m) + ",efConstruction=" +
             std::to_string(ef_construction) + ",efSearch=" + std::to_string(ef_search);
    case IndexKind::Ivf: {
      std::string c = code == IvfCode::Flat  ? "flat"
                      : code == IvfCode::Sq8 ? "sq8"
                                             : "pq" + (pq_m ? std::to_string(pq_m) : std::string()) +
                                                   "x" + std::to_string(pq_bits);
      return "ivf:nlist=" + num(nlist) + ",nprobe=" + num(nprobe) + ",code=" + c +
             ",rerank=" + std::to_string(rerank);
    }
  }
  return "flat";
}

IndexSpec IndexSpec::resolve(size_t n, size_t dim, uint64_t budget) const {
  IndexSpec s = *this;
  if (s.kind == IndexKind::Auto) {
    s = IndexSpec{};
    const double vec_bytes = 4.0 * dim;
    const double hnsw_bytes = n * (vec_bytes + 2.0 * s.hnsw_m * 4 * 1.1 + 16);
    const double sq8_bytes = n * (dim + 16.0) * 1.1;
    if (n <= kAutoFlatMax) {
      s.kind = IndexKind::Flat;
    } else if (hnsw_bytes <= budget) {
      s.kind = IndexKind::Hnsw;
    } else {
      s.kind = IndexKind::Ivf;
      s.code = sq8_bytes <= budget ? IvfCode::Sq8 : IvfCode::Pq;
    }
  }
  if (s.kind != IndexKind::Ivf) return s;
  if (s.nlist == 0) {
    // ~4 sqrt(n) lists, but never fewer than 39 training points per list.
    double lists = std::min(4.0 * std::sqrt(static_cast<double>(n)),
                            static_cast<double>(n / kPointsPerCentroid));
    s.nlist = static_cast<int>(std::max<uint32_t>(1, round_pow2(std::max(1.0, lists))));
    if (static_cast<size_t>(s.nlist) * kPointsPerCentroid > n && s.nlist > 1) s.nlist /= 2;
  }
  if (s.nprobe == 0) s.nprobe = std::clamp(s.nlist / 16, std::min(s.nlist, 8), s.nlist);
  if (s.code == IvfCode::Pq) {
    if (s.pq_m == 0) {
      // About 8 dimensions per sub-quantizer; m must divide the dimension.
      int m = static_cast<int>(std::max<size_t>(1, dim / 8));
      while (m > 1 && dim % m != 0) --m;
      s.pq_m = m;
    }
    if (dim % static_cast<size_t>(s.pq_m) != 0)
      fail(CBIR_EINVAL, "invalid index spec '" + str() + "': pq" + std::to_string(s.pq_m) +
                            " must divide the dimension " + std::to_string(dim));
  }
  return s;
}

size_t IndexSpec::training_minimum() const {
  if (kind != IndexKind::Ivf) return 0;
  size_t need = kPointsPerCentroid * static_cast<size_t>(nlist);
  if (code == IvfCode::Pq) need = std::max(need, kPointsPerCentroid << pq_bits);
  return need;
}

std::string IndexSpec::factory_string() const {
  switch (kind) {
    case IndexKind::Hnsw: return "HNSW" + std::to_string(hnsw_m);
    case IndexKind::Ivf: {
      std::string c = code == IvfCode::Flat  ? "Flat"
                      : code == IvfCode::Sq8 ? "SQ8"
                                             : "PQ" + std::to_string(pq_m) + "x" + std::to_string(pq_bits) + "np";
      // "np": no polysemous training, which only serves Hamming pre-filtering (unused here)
      // and takes minutes.
      return "IVF" + std::to_string(nlist) + "," + c;
    }
    case IndexKind::Faiss: return factory;
    default: return "Flat";
  }
}

}  // namespace cbir::store
