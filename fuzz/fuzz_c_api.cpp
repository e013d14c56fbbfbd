// The C API under hostile arguments. The input is a program: each step picks an entry point
// and its arguments (NULL pointers, zero sizes, huge k and dims, NaN and infinite vectors,
// invalid UTF-8, unknown flags and option versions) and calls it on small handles: a tokenizer
// and a fresh 4-dimensional collection per input. Buffers are always as large as the contract
// asks for the sizes passed, so any crash or sanitizer report is the library's.
// Checked after every call: a failure has a known code (never CBIR_EINTERNAL, which means an
// unexpected exception) and a message; at the end the collection still passes verify().
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "cbir.h"
#include "fuzz_util.hpp"

namespace fs = std::filesystem;

namespace {

constexpr size_t kDim = 4;
constexpr size_t kHuge = std::numeric_limits<size_t>::max();

std::string g_root, g_coll_dir;
cbir_tokenizer_t* g_tokenizer = nullptr;

void check(int status) {
  if (status == CBIR_OK) return;
  if (status == CBIR_EINTERNAL) {  // an exception the library did not expect
    std::fprintf(stderr, "CBIR_EINTERNAL: %s\n", cbir_last_error());
    __builtin_trap();
  }
  const char* msg = cbir_last_error();
  if (msg == nullptr || *msg == '\0') __builtin_trap();  // every error tells the user why
  if (cbir_status_str(status) == nullptr) __builtin_trap();
}

// Strings: NULL, empty, or bytes from the input (any bytes, invalid UTF-8 included).
struct Str {
  bool null = false;
  std::string s;
  const char* c() const { return null ? nullptr : s.c_str(); }
};
Str str(cbir::fuzz::Reader& in) {
  Str r;
  uint8_t k = in.u8();
  if (k % 8 == 0) r.null = true;
  else r.s = in.bytes(40);
  return r;
}

// A size: small values most of the time, sometimes one whose product with an element size or
// count overflows (the library must refuse those before touching the buffer).
size_t small(cbir::fuzz::Reader& in, size_t max) { return in.u8() % (max + 1); }
size_t dim_arg(cbir::fuzz::Reader& in) {
  static const size_t dims[] = {kDim, kDim, kDim, 0, 1, 3, 5, kHuge, kHuge / 2 + 1};
  return dims[in.u8() % (sizeof dims / sizeof *dims)];
}
bool fits(size_t a, size_t b, size_t limit) { return b == 0 || a <= limit / b; }

float float_arg(cbir::fuzz::Reader& in) {
  switch (in.u8() % 8) {
    case 0: return std::numeric_limits<float>::quiet_NaN();
    case 1: return std::numeric_limits<float>::infinity();
    case 2: return 0.0f;
    case 3: return -std::numeric_limits<float>::max();
    case 4: return in.f32();
    default: return float(int8_t(in.u8())) / 16.0f;
  }
}
std::vector<float> floats(cbir::fuzz::Reader& in, size_t n) {
  std::vector<float> v(n);
  for (float& f : v) f = float_arg(in);
  return v;
}
int64_t id_arg(cbir::fuzz::Reader& in) {
  switch (in.u8() % 6) {
    case 0: return -1;
    case 1: return std::numeric_limits<int64_t>::max();
    case 2: return std::numeric_limits<int64_t>::min();
    default: return in.u8() % 8;
  }
}
int32_t int_arg(cbir::fuzz::Reader& in) {
  switch (in.u8() % 6) {
    case 0: return -1;
    case 1: return std::numeric_limits<int32_t>::max();
    case 2: return std::numeric_limits<int32_t>::min();
    default: return int32_t(in.u8());
  }
}
uint32_t version_arg(cbir::fuzz::Reader& in, uint32_t good) {
  switch (in.u8() % 8) {
    case 0: return 0;
    case 1: return good + 8;
    case 2: return 4;
    default: return good;
  }
}

void tokenizer_steps(cbir::fuzz::Reader& in) {
  const cbir_tokenizer_t* tok = in.u8() % 8 ? g_tokenizer : nullptr;
  switch (in.u8() % 3) {
    case 0: {
      size_t n = small(in, 3);
      static const size_t lengths[] = {52, 2, 5, 0, 1, kHuge, kHuge / 4 + 1};
      size_t cl = lengths[in.u8() % 7];
      std::vector<Str> texts(n);
      std::vector<const char*> ptrs(n);
      for (size_t i = 0; i < n; ++i) ptrs[i] = (texts[i] = str(in)).c();
      const bool buffers = in.u8() % 8 != 0;
      // A length whose buffer cannot exist gets a token one: it must be refused unread.
      std::vector<int64_t> ids(fits(n, cl, 1 << 16) ? std::max<size_t>(n * cl, 1) : 1);
      std::vector<int32_t> lens(n);
      check(cbir_tokenize(buffers ? ids.data() : nullptr,
                          in.u8() % 2 ? lens.data() : nullptr, tok,
                          n > 0 || in.u8() % 2 ? ptrs.data() : nullptr, n, cl));
      break;
    }
    case 1:
      (void)cbir_tokenizer_token(tok, id_arg(in));
      (void)cbir_tokenizer_vocab_size(tok);
      break;
    default: {
      cbir_tokenizer_options_t o = CBIR_TOKENIZER_OPTIONS_INIT;
      o.version = version_arg(in, o.version);
      o.lower_case = int_arg(in);
      cbir_tokenizer_t* t = nullptr;
      Str path = str(in);
      check(cbir_tokenizer_open(in.u8() % 8 ? &t : nullptr, path.c(), in.u8() % 2 ? &o : nullptr));
      cbir_tokenizer_close(t);
    }
  }
}

void image_steps(cbir::fuzz::Reader& in) {
  cbir_preprocess_options_t o = CBIR_PREPROCESS_OPTIONS_INIT;
  o.version = version_arg(in, o.version);
  static const int32_t sides[] = {224, 7, 1, 0, -1, 16385, std::numeric_limits<int32_t>::max()};
  o.resize = in.u8() % 4 == 0 ? int_arg(in) : in.u8() % 2;
  o.size = sides[in.u8() % 7];
  o.crop = sides[in.u8() % 7];
  o.interpolation = in.u8() % 4 == 0 ? int_arg(in) : in.u8() % 2;
  o.exif_orientation = int_arg(in);
  o.fast_decode = int_arg(in);
  static const uint64_t pixels[] = {0, 1, 1u << 20, std::numeric_limits<uint64_t>::max()};
  o.max_pixels = pixels[in.u8() % 4];
  const cbir_preprocess_options_t* opts = in.u8() % 4 ? &o : nullptr;
  const bool probe = in.u8() % 2;
  std::string bytes = in.bytes(255);
  const void* data = in.u8() % 8 ? bytes.data() : nullptr;
  int32_t h = -1, w = -1;
  if (probe) {
    check(cbir_image_probe_buffer(in.u8() % 8 ? &h : nullptr, &w, data, bytes.size(), opts));
  } else {
    uint8_t* px = nullptr;
    int s = cbir_image_preprocess_buffer(in.u8() % 8 ? &px : nullptr, &h, &w, data, bytes.size(), opts);
    check(s);
    if (s == CBIR_OK && (px == nullptr || h <= 0 || w <= 0)) __builtin_trap();
    cbir_free(px);
  }
}

// Entry points that need a model, called with none (bundles need LibTorch models; the model
// tests cover real ones) or with a folder that is not a bundle.
void model_steps(cbir::fuzz::Reader& in) {
  const char* texts[2] = {"a red car", "\xff\xfe"};
  float out[8];
  int32_t statuses[2];
  switch (in.u8() % 6) {
    case 0: check(cbir_model_embed_texts(out, nullptr, texts, small(in, 2))); break;
    case 1: {
      cbir_model_info_t info;
      info.version = version_arg(in, sizeof info);
      check(cbir_model_info(&info, nullptr));
      break;
    }
    case 2: {
      const void* data[1] = {texts[0]};
      size_t sizes[1] = {9};
      check(cbir_model_embed_image_buffers(out, statuses, nullptr, data, sizes, 1));
      break;
    }
    case 3: {
      float emb[kDim] = {1, 0, 0, 0};
      check(cbir_model_classify(out, nullptr, emb, texts, small(in, 2)));
      break;
    }
    case 4: {
      cbir_model_options_t o = CBIR_MODEL_OPTIONS_INIT;
      o.version = version_arg(in, o.version);
      Str device = str(in);
      o.device = device.c();
      o.precision = int_arg(in);
      o.batch_size = int_arg(in);
      cbir_model_t* m = nullptr;
      const char* paths[] = {nullptr, "", "/nonexistent/bundle", g_root.c_str()};
      check(cbir_model_open(&m, paths[in.u8() % 4], &o));
      if (m) __builtin_trap();  // none of these is a bundle
      break;
    }
    default: {
      cbir_ingest_report_t* r = nullptr;
      check(cbir_ingest_dir(&r, nullptr, nullptr, g_root.c_str(), nullptr));
      cbir_ingest_report_free(r);
    }
  }
}

cbir_search_options_t search_options(cbir::fuzz::Reader& in, std::vector<int64_t>& ids, Str& prefix) {
  cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
  o.version = version_arg(in, o.version);
  if (in.u8() % 4 == 0) o.min_score = float_arg(in);
  if (in.u8() % 4 == 0) {
    prefix = str(in);
    o.uri_prefix = prefix.c();
  }
  if (in.u8() % 4 == 0) {
    ids.resize(small(in, 4));
    for (int64_t& id : ids) id = id_arg(in);
    o.ids = in.u8() % 8 ? ids.data() : nullptr;
    o.n_ids = in.u8() % 8 ? ids.size() : kHuge;
    if (o.n_ids == kHuge) o.ids = nullptr;  // a huge count only with no array to read
  }
  if (in.u8() % 4 == 0) o.ef_search = int_arg(in);
  if (in.u8() % 4 == 0) o.nprobe = int_arg(in);
  return o;
}

size_t k_arg(cbir::fuzz::Reader& in) {
  static const size_t ks[] = {5, 1, 0, 100, kHuge, kHuge / 8 + 1};
  return ks[in.u8() % 6];
}

void collection_steps(cbir::fuzz::Reader& in, cbir_collection_t*& coll) {
  cbir_collection_t* c = in.u8() % 16 ? coll : nullptr;
  switch (in.u8() % 14) {
    case 0:
    case 1: {  // add / upsert
      size_t n = small(in, 3), dim = dim_arg(in);
      std::vector<Str> uris(n), hashes(n), payloads(n);
      std::vector<cbir_item_t> items(n);
      for (size_t i = 0; i < n; ++i) {
        items[i].uri = (uris[i] = str(in)).c();
        items[i].content_hash = (hashes[i] = str(in)).c();
        items[i].payload = (payloads[i] = str(in)).c();
        items[i].size = id_arg(in);
        items[i].mtime = id_arg(in);
        items[i].width = int_arg(in);
        items[i].height = int_arg(in);
      }
      // n * dim floats; a dim whose buffer cannot exist gets a token one (must be refused).
      std::vector<float> v = fits(n, dim, 1024) ? floats(in, n * dim) : std::vector<float>(1);
      const float* vp = in.u8() % 8 ? v.data() : nullptr;
      std::vector<int64_t> ids(n);
      auto fn = in.u8() % 2 ? cbir_collection_add : cbir_collection_upsert;
      check(fn(in.u8() % 4 ? ids.data() : nullptr, c, in.u8() % 8 ? items.data() : nullptr, vp, n, dim));
      break;
    }
    case 2: {
      std::vector<int64_t> ids(small(in, 4));
      for (int64_t& id : ids) id = id_arg(in);
      size_t removed = 0;
      check(cbir_collection_remove(in.u8() % 2 ? &removed : nullptr, c,
                                   ids.empty() && in.u8() % 2 ? nullptr : ids.data(), ids.size()));
      break;
    }
    case 3: {
      Str uri = str(in);
      check(cbir_collection_remove_uri(c, uri.c()));
      break;
    }
    case 4: {
      cbir_item_t* item = nullptr;
      int s = cbir_collection_get(in.u8() % 8 ? &item : nullptr, c, id_arg(in));
      check(s);
      if (s == CBIR_OK && (item == nullptr || item->uri == nullptr || item->payload == nullptr))
        __builtin_trap();
      cbir_free(item);
      int64_t id = 0;
      Str uri = str(in);
      check(cbir_collection_find(&id, c, uri.c()));
      break;
    }
    case 5: {
      size_t dim = dim_arg(in);
      std::vector<float> out(fits(dim, 1, 1024) ? std::max<size_t>(dim, 1) : 1);
      check(cbir_collection_get_vector(in.u8() % 8 ? out.data() : nullptr, dim, c, id_arg(in)));
      break;
    }
    case 6: {
      size_t cap = small(in, 5);
      std::vector<int64_t> ids(cap);
      size_t n = 0;
      check(cbir_collection_list(ids.data(), &n, c, id_arg(in), cap));
      if (n > cap) __builtin_trap();
      uint64_t count = 0;
      check(cbir_collection_count(in.u8() % 8 ? &count : nullptr, c));
      break;
    }
    case 7:
    case 8: {  // search / search_similar
      const size_t nq = small(in, 2), dim = dim_arg(in), k = k_arg(in);
      std::vector<float> q = fits(nq, dim, 1024) ? floats(in, nq * dim) : std::vector<float>(1);
      const size_t out_n = fits(nq, k, 1024) ? std::max<size_t>(nq * k, 1) : 1;
      std::vector<int64_t> ids(out_n);
      std::vector<float> scores(out_n);
      std::vector<int64_t> filter_ids;
      Str prefix;
      cbir_search_options_t o = search_options(in, filter_ids, prefix);
      const cbir_search_options_t* op = in.u8() % 4 ? &o : nullptr;
      if (in.u8() % 2) {
        check(cbir_collection_search(ids.data(), scores.data(), c, q.data(), nq, dim, k, op));
      } else {
        check(cbir_collection_search_similar(ids.data(), scores.data(), c, id_arg(in), k, op));
      }
      break;
    }
    case 9: {
      const size_t dim = dim_arg(in);
      std::vector<float> q = fits(dim, 1, 1024) ? floats(in, dim) : std::vector<float>(1);
      std::vector<int64_t> filter_ids;
      Str prefix;
      cbir_search_options_t o = search_options(in, filter_ids, prefix);
      int64_t* ids = nullptr;
      float* scores = nullptr;
      size_t n = 0;
      check(cbir_collection_range_search(&ids, &scores, &n, c, in.u8() % 8 ? q.data() : nullptr, dim,
                                         float_arg(in), in.u8() % 2 ? &o : nullptr));
      cbir_free(ids);
      cbir_free(scores);
      break;
    }
    case 10:
      switch (in.u8() % 5) {
        case 0: check(cbir_collection_commit(c)); break;
        case 1: check(cbir_collection_save(c)); break;
        case 2: check(cbir_collection_refresh(c)); break;
        case 3: check(cbir_collection_compact(c)); break;
        default: check(cbir_collection_verify(c));
      }
      break;
    case 11: {
      static const char* specs[] = {nullptr, "flat", "hnsw:M=4", "ivf:nlist=1", "auto", "bogus",
                                    "faiss:HNSW8", "faiss:IVF2,Flat", "faiss:PCA2,Flat",
                                    "faiss:PQ2x4", "faiss:HNSW2000000000", "faiss:IVF1,SQ8"};
      Str spec = str(in);
      check(cbir_collection_rebuild(c, in.u8() % 2 ? specs[in.u8() % 12] : spec.c()));
      break;
    }
    case 12: {
      cbir_collection_info_t* info = nullptr;
      check(cbir_collection_info(in.u8() % 8 ? &info : nullptr, c));
      cbir_free(info);
      break;
    }
    default: {  // reopen with hostile options
      cbir_collection_close(coll);
      coll = nullptr;
      cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
      o.version = version_arg(in, o.version);
      o.flags = in.u8() % 4 == 0 ? in.u32() : in.u8() % 2 ? CBIR_OPEN_READONLY : 0;
      o.dim = in.u8() % 2 ? int_arg(in) : 0;
      Str fp = str(in), spec = str(in);
      o.fingerprint = in.u8() % 2 ? fp.c() : nullptr;
      o.index_spec = spec.c();
      o.memory_budget_mb = in.u8() % 4 == 0 ? in.u32() : 0;
      check(cbir_collection_open(&coll, g_coll_dir.c_str(), &o));
      if (coll == nullptr) {  // back to a writer, so the steps go on
        cbir_collection_options_t w = CBIR_COLLECTION_OPTIONS_INIT;
        check(cbir_collection_open(&coll, g_coll_dir.c_str(), &w));
        if (coll == nullptr) __builtin_trap();
      }
    }
  }
}

void core_steps(cbir::fuzz::Reader& in) {
  switch (in.u8() % 4) {
    case 0: (void)cbir_status_str(int(in.u32())); break;
    case 1: cbir_free(nullptr); break;
    case 2: check(cbir_set_threads(in.u8() % 4 == 0 ? int_arg(in) : in.u8() % 3)); break;
    default: cbir_set_log_callback(nullptr, nullptr, int_arg(in));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_root = cbir::fuzz::scratch_dir();
  g_coll_dir = g_root + "/coll";
  const std::string vocab = g_root + "/vocab.txt";
  cbir::fuzz::write_file(vocab, "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\nred\ncar\n##s\n红\n车\n");
  if (cbir_tokenizer_open(&g_tokenizer, vocab.c_str(), nullptr) != CBIR_OK) __builtin_trap();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cbir::fuzz::Reader in(data, size);
  std::error_code ec;
  fs::remove_all(g_coll_dir, ec);
  fs::create_directory(g_coll_dir);
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = CBIR_OPEN_CREATE;
  o.dim = kDim;
  o.fingerprint = "sha256:fuzz";
  cbir_collection_t* coll = nullptr;
  if (cbir_collection_open(&coll, g_coll_dir.c_str(), &o) != CBIR_OK) __builtin_trap();

  for (int step = 0; step < 32 && !in.empty(); ++step) {
    switch (in.u8() % 8) {
      case 0: tokenizer_steps(in); break;
      case 1: image_steps(in); break;
      case 2: model_steps(in); break;
      case 3: core_steps(in); break;
      default: collection_steps(in, coll);
    }
  }
  // Bad calls lose nothing: whatever was accepted is consistent.
  int s = cbir_collection_verify(coll);
  if (s != CBIR_OK) {
    fprintf(stderr, "verify: %s\n", cbir_last_error());
    __builtin_trap();
  }
  cbir_collection_close(coll);
  cbir_set_threads(1);
  return 0;
}
