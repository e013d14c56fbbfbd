// Collections through the C API: every operation, its errors, and reopening after each.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "test_store_util.hpp"

using namespace store_test;

namespace {

constexpr size_t kDim = 16;

std::string last_error() { return cbir_last_error(); }

}  // namespace

TEST_CASE("create, add, get, find, count, list and vectors") {
  TempDir dir;
  const std::string path = dir.sub("c");
  auto c = create(path, kDim);
  CHECK(count(c.get()) == 0);
  CHECK(effective_spec(c.get()) == "flat");

  const auto v = unit_vectors(10, kDim, 1);
  std::vector<cbir_item_t> items(10);
  std::vector<std::string> u = uris("photos/a", 10);
  for (size_t i = 0; i < 10; ++i) {
    items[i] = cbir_item_t{};
    items[i].uri = u[i].c_str();
    items[i].content_hash = i % 2 ? "sha256:abc" : nullptr;
    items[i].size = int64_t(1000 + i);
    items[i].mtime = 1700000000;
    items[i].width = 640;
    items[i].height = int32_t(480 + i);
    items[i].payload = i == 3 ? "{\"label\":\"猫\"}" : nullptr;
  }
  // Vectors need not be unit length: stored normalized.
  std::vector<float> scaled(v);
  for (float& x : scaled) x *= 3.5f;
  std::vector<int64_t> ids(10);
  ok(cbir_collection_add(ids.data(), c.get(), items.data(), scaled.data(), 10, kDim));
  CHECK(std::set<int64_t>(ids.begin(), ids.end()).size() == 10);
  CHECK(count(c.get()) == 10);
  CHECK(all_ids(c.get()) == ids);

  cbir_item_t* got = nullptr;
  ok(cbir_collection_get(&got, c.get(), ids[3]));
  CHECK(got->id == ids[3]);
  CHECK(std::string(got->uri) == "photos/a3");
  CHECK(std::string(got->content_hash) == "sha256:abc");
  CHECK(std::string(got->payload) == "{\"label\":\"猫\"}");
  CHECK(got->size == 1003);
  CHECK(got->mtime == 1700000000);
  CHECK(got->width == 640);
  CHECK(got->height == 483);
  cbir_free(got);
  ok(cbir_collection_get(&got, c.get(), ids[2]));
  CHECK(std::string(got->content_hash).empty());
  CHECK(std::string(got->payload).empty());
  cbir_free(got);

  int64_t found = 0;
  ok(cbir_collection_find(&found, c.get(), "photos/a7"));
  CHECK(found == ids[7]);
  CHECK(cbir_collection_find(&found, c.get(), "photos/zzz") == CBIR_ENOTFOUND);
  CHECK(last_error().find("photos/zzz") != std::string::npos);

  std::vector<float> back(kDim);
  ok(cbir_collection_get_vector(back.data(), kDim, c.get(), ids[5]));
  for (size_t j = 0; j < kDim; ++j) CHECK(back[j] == Approx(v[5 * kDim + j]).margin(1e-6));
  CHECK(cbir_collection_get_vector(back.data(), kDim, c.get(), 999999) == CBIR_ENOTFOUND);
  CHECK(cbir_collection_get_vector(back.data(), kDim + 1, c.get(), ids[5]) == CBIR_EMISMATCH);
  CHECK(cbir_collection_get(&got, c.get(), 999999) == CBIR_ENOTFOUND);
  CHECK(got == nullptr);

  cbir_collection_info_t* info = nullptr;
  ok(cbir_collection_info(&info, c.get()));
  CHECK(std::string(info->path) == path);
  CHECK(std::string(info->fingerprint) == "test-model");
  CHECK(std::string(info->index_spec) == "flat");
  CHECK(info->dim == int32_t(kDim));
  CHECK(info->count == 10);
  CHECK(info->read_only == 0);
  CHECK(info->seq == 10);
  cbir_free(info);
}

TEST_CASE("add is all or nothing; upsert replaces and keeps the id") {
  TempDir dir;
  auto c = create(dir.sub("c"), kDim);
  const auto v = unit_vectors(4, kDim, 2);
  auto ids = add(c.get(), {"a", "b"}, std::vector<float>(v.begin(), v.begin() + 2 * kDim), kDim);

  SECTION("a taken uri fails the whole call") {
    auto items = items_for({"c", "a"});
    CHECK(cbir_collection_add(nullptr, c.get(), items.data(), v.data(), 2, kDim) == CBIR_EEXIST);
    CHECK(last_error().find("'a'") != std::string::npos);
    int64_t id = 0;
    CHECK(cbir_collection_find(&id, c.get(), "c") == CBIR_ENOTFOUND);
    CHECK(count(c.get()) == 2);
  }
  SECTION("a uri twice in one call fails it too") {
    auto items = items_for({"d", "d"});
    CHECK(cbir_collection_add(nullptr, c.get(), items.data(), v.data(), 2, kDim) == CBIR_EEXIST);
    CHECK(count(c.get()) == 2);
  }
  SECTION("upsert") {
    auto items = items_for({"a", "new", "new"});
    std::vector<float> vv(v.begin() + kDim, v.end());  // a gets b's old vector... then 2 more
    std::vector<int64_t> out(3);
    ok(cbir_collection_upsert(out.data(), c.get(), items.data(), vv.data(), 3, kDim));
    CHECK(out[0] == ids[0]);
    CHECK(out[1] == out[2]);
    CHECK(out[1] > ids[1]);
    CHECK(count(c.get()) == 3);
    std::vector<float> back(kDim);
    ok(cbir_collection_get_vector(back.data(), kDim, c.get(), ids[0]));
    CHECK(dot(back.data(), v.data() + kDim, kDim) == Approx(1.0f));
    ok(cbir_collection_get_vector(back.data(), kDim, c.get(), out[1]));
    CHECK(dot(back.data(), v.data() + 3 * kDim, kDim) == Approx(1.0f));  // the last one won
    // The index follows: a's new vector finds a, and the old one no longer does.
    auto r = search(c.get(), v.data() + kDim, 1, kDim, 3);
    CHECK(r.scores[0] == Approx(1.0f));
    CHECK((r.ids[0] == ids[0] || r.ids[0] == ids[1]));
    r = search(c.get(), v.data(), 1, kDim, 3);
    CHECK(r.scores[0] < 0.99f);
  }
}

TEST_CASE("remove by id and by uri") {
  TempDir dir;
  auto c = create(dir.sub("c"), kDim);
  const auto v = unit_vectors(6, kDim, 3);
  auto ids = add(c.get(), uris("u", 6), v, kDim);
  size_t removed = 99;
  const int64_t some[] = {ids[1], 424242, ids[1], ids[4]};
  ok(cbir_collection_remove(&removed, c.get(), some, 4));
  CHECK(removed == 2);
  CHECK(count(c.get()) == 4);
  ok(cbir_collection_remove_uri(c.get(), "u0"));
  CHECK(cbir_collection_remove_uri(c.get(), "u0") == CBIR_ENOTFOUND);
  CHECK(count(c.get()) == 3);
  CHECK(all_ids(c.get()) == std::vector<int64_t>{ids[2], ids[3], ids[5]});
  auto r = search(c.get(), v.data() + 4 * kDim, 1, kDim, 6);
  for (int64_t id : r.ids) CHECK((id == -1 || id == ids[2] || id == ids[3] || id == ids[5]));
  CHECK(r.ids[3] == -1);
  // A removed uri can come back, under a new id.
  auto again = add(c.get(), {"u0"}, std::vector<float>(v.begin(), v.begin() + kDim), kDim);
  CHECK(again[0] > ids[5]);
}

TEST_CASE("search: exact top-k, thresholds, padding, batches, filters") {
  TempDir dir;
  auto c = create(dir.sub("c"), kDim);
  const size_t n = 300;
  const auto v = clustered_vectors(n, kDim, 10, 4);
  auto u = uris("set1/", n / 2);
  auto u2 = uris("set2/", n / 2, n / 2);
  u.insert(u.end(), u2.begin(), u2.end());
  auto ids = add(c.get(), u, v, kDim);
  const auto q = unit_vectors(5, kDim, 5);

  const size_t k = 10;
  auto r = search(c.get(), q.data(), 5, kDim, k);
  for (size_t i = 0; i < 5; ++i) {
    auto expected = exact_top(ids, v, kDim, q.data() + i * kDim, k);
    CHECK(std::vector<int64_t>(r.ids.begin() + long(i * k), r.ids.begin() + long((i + 1) * k)) == expected);
    for (size_t j = 1; j < k; ++j) CHECK(r.scores[i * k + j - 1] >= r.scores[i * k + j]);
  }

  SECTION("min_score drops weaker results") {
    cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
    o.min_score = r.scores[4];
    auto t = search(c.get(), q.data(), 1, kDim, k, &o);
    for (size_t j = 0; j < k; ++j) {
      if (j <= 4) CHECK(t.ids[j] == r.ids[j]);
      else CHECK((t.ids[j] == -1 || t.scores[j] >= o.min_score));
    }
    CHECK(std::isinf(t.scores[k - 1]));
  }
  SECTION("k beyond the collection pads with -1 and -INFINITY") {
    auto t = search(c.get(), q.data(), 1, kDim, n + 5);
    CHECK(t.ids[n - 1] >= 0);
    for (size_t j = n; j < n + 5; ++j) {
      CHECK(t.ids[j] == -1);
      CHECK(t.scores[j] == -INFINITY);
    }
  }
  SECTION("uri prefix, id set, both, and an empty set") {
    cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
    o.uri_prefix = "set2/";
    auto t = search(c.get(), q.data(), 1, kDim, k, &o);
    std::vector<int64_t> second(ids.begin() + long(n / 2), ids.end());
    std::vector<float> second_v(v.begin() + long(n / 2 * kDim), v.end());
    CHECK(t.ids == exact_top(second, second_v, kDim, q.data(), k));

    const std::vector<int64_t> chosen = {ids[3], ids[200], ids[201], 999999};
    cbir_search_options_t o2 = CBIR_SEARCH_OPTIONS_INIT;
    o2.ids = chosen.data();
    o2.n_ids = chosen.size();
    t = search(c.get(), q.data(), 1, kDim, k, &o2);
    CHECK(std::set<int64_t>(t.ids.begin(), t.ids.begin() + 3) == std::set<int64_t>{ids[3], ids[200], ids[201]});
    CHECK(t.ids[3] == -1);

    o2.uri_prefix = "set2/";
    t = search(c.get(), q.data(), 1, kDim, k, &o2);
    CHECK(std::set<int64_t>(t.ids.begin(), t.ids.begin() + 2) == std::set<int64_t>{ids[200], ids[201]});
    CHECK(t.ids[2] == -1);

    o2.uri_prefix = nullptr;
    o2.n_ids = 0;
    t = search(c.get(), q.data(), 1, kDim, k, &o2);
    CHECK(t.ids[0] == -1);
    o2.ids = nullptr;
    o2.n_ids = 3;
    std::vector<int64_t> oi(k);
    std::vector<float> os(k);
    CHECK(cbir_collection_search(oi.data(), os.data(), c.get(), q.data(), 1, kDim, k, &o2) == CBIR_EINVAL);

    o.uri_prefix = "\xff\xfe";
    CHECK(cbir_collection_search(oi.data(), os.data(), c.get(), q.data(), 1, kDim, k, &o) == CBIR_EINVAL);
    CHECK(last_error().find("UTF-8") != std::string::npos);
  }
  SECTION("more like this leaves the item out") {
    std::vector<int64_t> si(k);
    std::vector<float> ss(k);
    ok(cbir_collection_search_similar(si.data(), ss.data(), c.get(), ids[7], k, nullptr));
    auto expected = exact_top(ids, v, kDim, v.data() + 7 * kDim, k + 1);
    expected.erase(std::find(expected.begin(), expected.end(), ids[7]));
    CHECK(si == expected);
    CHECK(cbir_collection_search_similar(si.data(), ss.data(), c.get(), 123456, k, nullptr) == CBIR_ENOTFOUND);
    // More asked than there are: everything else, then padding.
    std::vector<int64_t> all(n + 10);
    std::vector<float> all_s(n + 10);
    ok(cbir_collection_search_similar(all.data(), all_s.data(), c.get(), ids[7], n + 10, nullptr));
    CHECK(all[n - 2] >= 0);
    CHECK(all[n - 1] == -1);
    CHECK(all_s[n + 9] == -INFINITY);
    CHECK(std::find(all.begin(), all.end(), ids[7]) == all.end());
  }
  SECTION("range search finds exactly the items above the threshold") {
    int64_t* rid = nullptr;
    float* rsc = nullptr;
    size_t rn = 0;
    const float threshold = 0.5f;
    ok(cbir_collection_range_search(&rid, &rsc, &rn, c.get(), v.data(), kDim, threshold, nullptr));
    std::set<int64_t> expected;
    for (size_t i = 0; i < n; ++i)
      if (dot(v.data(), v.data() + i * kDim, kDim) >= threshold) expected.insert(ids[i]);
    CHECK(std::set<int64_t>(rid, rid + rn) == expected);
    CHECK(rid[0] == ids[0]);
    for (size_t j = 1; j < rn; ++j) CHECK(rsc[j - 1] >= rsc[j]);
    cbir_free(rid);
    cbir_free(rsc);
    ok(cbir_collection_range_search(&rid, &rsc, &rn, c.get(), v.data(), kDim, 1.5f, nullptr));
    CHECK(rn == 0);
    CHECK(rid == nullptr);
    CHECK(cbir_collection_range_search(&rid, &rsc, &rn, c.get(), v.data(), kDim, NAN, nullptr) == CBIR_EINVAL);
  }
}

TEST_CASE("bad arguments get clear errors, never a crash") {
  TempDir dir;
  auto c = create(dir.sub("c"), kDim);
  const auto v = unit_vectors(2, kDim, 6);
  auto items = items_for({"x", "y"});
  std::vector<int64_t> ids(10);
  std::vector<float> scores(10);

  CHECK(cbir_collection_add(nullptr, nullptr, items.data(), v.data(), 2, kDim) == CBIR_EINVAL);
  CHECK(last_error() == "coll must not be NULL");
  CHECK(cbir_collection_add(nullptr, c.get(), nullptr, v.data(), 2, kDim) == CBIR_EINVAL);
  CHECK(cbir_collection_add(nullptr, c.get(), items.data(), nullptr, 2, kDim) == CBIR_EINVAL);
  CHECK(cbir_collection_add(nullptr, c.get(), items.data(), v.data(), 2, kDim + 1) == CBIR_EMISMATCH);
  CHECK(last_error().find("dimension 17") != std::string::npos);
  ok(cbir_collection_add(nullptr, c.get(), nullptr, nullptr, 0, kDim));

  std::vector<float> bad(v);
  bad[kDim + 3] = NAN;
  CHECK(cbir_collection_add(nullptr, c.get(), items.data(), bad.data(), 2, kDim) == CBIR_EINVAL);
  CHECK(last_error().find("vector 1") != std::string::npos);
  bad[kDim + 3] = INFINITY;
  CHECK(cbir_collection_add(nullptr, c.get(), items.data(), bad.data(), 2, kDim) == CBIR_EINVAL);
  std::vector<float> zeros(2 * kDim, 0.0f);
  CHECK(cbir_collection_add(nullptr, c.get(), items.data(), zeros.data(), 2, kDim) == CBIR_EINVAL);
  CHECK(last_error().find("zeros") != std::string::npos);

  cbir_item_t odd = {};
  CHECK(cbir_collection_add(nullptr, c.get(), &odd, v.data(), 1, kDim) == CBIR_EINVAL);
  CHECK(last_error().find("uri must not be NULL") != std::string::npos);
  odd.uri = "";
  CHECK(cbir_collection_add(nullptr, c.get(), &odd, v.data(), 1, kDim) == CBIR_EINVAL);
  odd.uri = "bad\xc3(";
  CHECK(cbir_collection_add(nullptr, c.get(), &odd, v.data(), 1, kDim) == CBIR_EINVAL);
  CHECK(last_error().find("UTF-8") != std::string::npos);
  odd.uri = "ok";
  odd.payload = "\xed\xa0\x80";  // a UTF-16 surrogate
  CHECK(cbir_collection_add(nullptr, c.get(), &odd, v.data(), 1, kDim) == CBIR_EINVAL);
  odd.payload = nullptr;
  odd.width = -1;
  CHECK(cbir_collection_add(nullptr, c.get(), &odd, v.data(), 1, kDim) == CBIR_EINVAL);
  CHECK(count(c.get()) == 0);

  ok(cbir_collection_add(nullptr, c.get(), items.data(), v.data(), 2, kDim));
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), v.data(), 1, kDim, 0, nullptr) == CBIR_EINVAL);
  CHECK(last_error().find("k must be") != std::string::npos);
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), v.data(), 3, kDim, SIZE_MAX / 2, nullptr) == CBIR_EINVAL);
  // Found by fuzz_c_api: n_queries * k that fits size_t but not a buffer of int64 (UBSan: the
  // end pointer overflowed); the same for one query and for more-like-this.
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), v.data(), 2, kDim, SIZE_MAX / 8 + 1, nullptr) == CBIR_EINVAL);
  CHECK(last_error().find("larger than any result buffer") != std::string::npos);
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), v.data(), 1, kDim, SIZE_MAX / 4, nullptr) == CBIR_EINVAL);
  CHECK(cbir_collection_search_similar(ids.data(), scores.data(), c.get(), 1, SIZE_MAX / 4, nullptr) == CBIR_EINVAL);
  CHECK(cbir_collection_search(nullptr, scores.data(), c.get(), v.data(), 1, kDim, 1, nullptr) == CBIR_EINVAL);
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), nullptr, 1, kDim, 1, nullptr) == CBIR_EINVAL);
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), v.data(), 1, 3, 1, nullptr) == CBIR_EMISMATCH);
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), zeros.data(), 1, kDim, 1, nullptr) == CBIR_EINVAL);
  CHECK(last_error().find("query 0") != std::string::npos);
  ok(cbir_collection_search(ids.data(), scores.data(), c.get(), nullptr, 0, kDim, 1, nullptr));
  cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
  o.version = 3;
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), v.data(), 1, kDim, 1, &o) == CBIR_EINVAL);
  CHECK(last_error().find("version") != std::string::npos);
  o = CBIR_SEARCH_OPTIONS_INIT;
  o.ef_search = -1;
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), v.data(), 1, kDim, 1, &o) == CBIR_EINVAL);
  o = CBIR_SEARCH_OPTIONS_INIT;
  o.min_score = NAN;
  CHECK(cbir_collection_search(ids.data(), scores.data(), c.get(), v.data(), 1, kDim, 1, &o) == CBIR_EINVAL);

  CHECK(cbir_collection_remove(nullptr, c.get(), nullptr, 3) == CBIR_EINVAL);
  CHECK(cbir_collection_remove_uri(c.get(), nullptr) == CBIR_EINVAL);
  CHECK(cbir_collection_get(nullptr, c.get(), 1) == CBIR_EINVAL);
  CHECK(cbir_collection_find(nullptr, c.get(), "x") == CBIR_EINVAL);
  CHECK(cbir_collection_count(nullptr, c.get()) == CBIR_EINVAL);
  CHECK(cbir_collection_info(nullptr, c.get()) == CBIR_EINVAL);
  size_t n = 7;
  CHECK(cbir_collection_list(nullptr, &n, c.get(), -1, 5) == CBIR_EINVAL);
  ok(cbir_collection_list(nullptr, &n, c.get(), -1, 0));
  CHECK(n == 0);
  CHECK(cbir_collection_rebuild(c.get(), "") == CBIR_EINVAL);
  CHECK(cbir_collection_rebuild(c.get(), "nonsense") == CBIR_EINVAL);
  CHECK(cbir_collection_commit(nullptr) == CBIR_EINVAL);
  cbir_collection_close(nullptr);
  cbir_collection_options_init_size(nullptr, sizeof(cbir_collection_options_t));
  cbir_search_options_init_size(nullptr, sizeof(cbir_search_options_t));
  (cbir_collection_options_init)(nullptr);
  (cbir_search_options_init)(nullptr);
  cbir_search_options_t init;
  cbir_search_options_init(&init);
  CHECK(init.version == sizeof(cbir_search_options_t));
  CHECK(init.min_score == CBIR_SCORE_ANY);
  CHECK(init.space == nullptr);
  // A program built against the header before `space` calls the function of the old name with
  // its smaller struct: nothing past that struct is written.
  struct {
    cbir_search_options_t opts;
  } guarded;
  std::memset(&guarded, 0x5a, sizeof guarded);
  (cbir_search_options_init)(&guarded.opts);
  CHECK(guarded.opts.version == offsetof(cbir_search_options_t, space));
  CHECK(guarded.opts.min_score == CBIR_SCORE_ANY);
  const auto* tail = reinterpret_cast<const unsigned char*>(&guarded.opts.space);
  CHECK(std::all_of(tail, tail + sizeof guarded.opts.space, [](unsigned char b) { return b == 0x5a; }));
  cbir_collection_options_t copts;
  std::memset(&copts, 0x5a, sizeof copts);
  (cbir_collection_options_init)(&copts);
  CHECK(copts.version == offsetof(cbir_collection_options_t, space));
  cbir_collection_options_init_size(&copts, sizeof copts + 64);  // never past our own struct
  CHECK(copts.version == sizeof(cbir_collection_options_t));
  CHECK(copts.space == nullptr);
}

TEST_CASE("opening: create, not found, options, mismatches, corrupt catalogs") {
  TempDir dir;
  const std::string path = dir.sub("c");
  cbir_collection_t* c = nullptr;
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;

  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_ENOTFOUND);
  CHECK(c == nullptr);
  CHECK(last_error().find("CBIR_OPEN_CREATE") != std::string::npos);
  CHECK(cbir_collection_open(&c, nullptr, &o) == CBIR_EINVAL);
  CHECK(cbir_collection_open(nullptr, path.c_str(), &o) == CBIR_EINVAL);
  o.flags = CBIR_OPEN_CREATE;
  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_EINVAL);  // no dim
  CHECK(last_error().find("dim") != std::string::npos);
  o.dim = int32_t(kDim);
  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_EINVAL);  // no fingerprint
  CHECK(last_error().find("fingerprint") != std::string::npos);
  o.fingerprint = "sha256:model-a";
  o.index_spec = "ivf:nlist=4";
  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_EINVAL);
  CHECK(last_error().find("rebuild") != std::string::npos);
  o.index_spec = "bogus";
  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_EINVAL);
  o.index_spec = nullptr;
  o.flags = 0x80;
  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_EINVAL);
  o.flags = CBIR_OPEN_CREATE | CBIR_OPEN_READONLY;
  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_ENOTFOUND);
  o.flags = CBIR_OPEN_CREATE;
  o.version = 2;
  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_EINVAL);
  o.version = sizeof o;
  CHECK(cbir_collection_open(&c, dir.sub("missing/parent/c").c_str(), &o) == CBIR_EIO);
  std::ofstream(dir.sub("file")) << "x";
  CHECK(cbir_collection_open(&c, dir.sub("file").c_str(), &o) == CBIR_EINVAL);
  CHECK(last_error().find("not a folder") != std::string::npos);

  ok(cbir_collection_open(&c, path.c_str(), &o));
  CHECK(effective_spec(c) == "flat");  // auto with nothing in it
  cbir_collection_close(c);

  // Existing: create is a no-op; dim and fingerprint must match when given.
  ok(cbir_collection_open(&c, path.c_str(), &o));
  cbir_collection_close(c);
  o.flags = 0;
  o.fingerprint = "sha256:model-b";
  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_EMISMATCH);
  CHECK(last_error().find("sha256:model-a") != std::string::npos);
  o.fingerprint = nullptr;
  o.dim = 32;
  CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_EMISMATCH);
  CHECK(last_error().find("16-dimensional") != std::string::npos);
  o.dim = 0;
  ok(cbir_collection_open(&c, path.c_str(), &o));
  cbir_collection_close(c);

  SECTION("a catalog that is not SQLite") {
    std::ofstream(path + "/catalog.sqlite", std::ios::trunc) << std::string(10000, 'z');
    std::filesystem::remove(path + "/catalog.sqlite-wal");
    CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_ECORRUPT);
    CHECK(last_error().find("catalog") != std::string::npos);
    CHECK(c == nullptr);
  }
  SECTION("a snapshot temp file left by an interrupted save: readers leave it, a writer removes it") {
    const std::string tmp = path + "/index.snap.tmp";
    std::ofstream(tmp) << std::string(1000, 'x');
    o.flags = CBIR_OPEN_READONLY;
    ok(cbir_collection_open(&c, path.c_str(), &o));
    cbir_collection_close(c);
    CHECK(std::filesystem::exists(tmp));
    o.flags = 0;
    ok(cbir_collection_open(&c, path.c_str(), &o));
    CHECK(!std::filesystem::exists(tmp));
    cbir_collection_close(c);
  }
  SECTION("an empty catalog file") {
    std::filesystem::remove(path + "/catalog.sqlite-wal");
    std::ofstream(path + "/catalog.sqlite", std::ios::trunc);
    CHECK(cbir_collection_open(&c, path.c_str(), &o) == CBIR_ECORRUPT);
  }
}

TEST_CASE("one writer; readers alongside see commits after refresh") {
  TempDir dir;
  const std::string path = dir.sub("c");
  auto w = create(path, kDim);
  cbir_collection_t* second = nullptr;
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  CHECK(cbir_collection_open(&second, path.c_str(), &o) == CBIR_ELOCKED);
  CHECK(last_error().find("another handle in this process") != std::string::npos);
  CHECK(second == nullptr);

  const auto v = unit_vectors(20, kDim, 7);
  auto ids = add(w.get(), uris("r", 10), std::vector<float>(v.begin(), v.begin() + 10 * kDim), kDim);
  auto r = open(path, CBIR_OPEN_READONLY);
  CHECK(count(r.get()) == 0);  // not committed yet
  ok(cbir_collection_commit(w.get()));
  CHECK(count(r.get()) == 0);  // not refreshed yet
  ok(cbir_collection_refresh(r.get()));
  CHECK(count(r.get()) == 10);
  CHECK(search(r.get(), v.data() + 3 * kDim, 1, kDim, 1).ids[0] == ids[3]);

  auto items = items_for({"r0"});
  CHECK(cbir_collection_add(nullptr, r.get(), items.data(), v.data(), 1, kDim) == CBIR_EINVAL);
  CHECK(last_error().find("read-only") != std::string::npos);
  CHECK(cbir_collection_commit(r.get()) == CBIR_EINVAL);
  CHECK(cbir_collection_rebuild(r.get(), nullptr) == CBIR_EINVAL);

  // Removals, upserts and a rebuild elsewhere all reach the reader.
  ok(cbir_collection_remove(nullptr, w.get(), &ids[3], 1));
  std::vector<float> nv(v.begin() + 15 * kDim, v.begin() + 16 * kDim);
  auto up = items_for({"r5"});
  ok(cbir_collection_upsert(nullptr, w.get(), up.data(), nv.data(), 1, kDim));
  ok(cbir_collection_commit(w.get()));
  ok(cbir_collection_refresh(r.get()));
  CHECK(count(r.get()) == 9);
  CHECK(search(r.get(), nv.data(), 1, kDim, 1).ids[0] == ids[5]);
  CHECK(search(r.get(), v.data() + 3 * kDim, 1, kDim, 1).ids[0] != ids[3]);
  ok(cbir_collection_rebuild(w.get(), "hnsw:M=8"));
  ok(cbir_collection_refresh(r.get()));
  CHECK(effective_spec(r.get()) == "hnsw:M=8,efConstruction=40,efSearch=64");
  CHECK(count(r.get()) == 9);
  CHECK(search(r.get(), nv.data(), 1, kDim, 1).ids[0] == ids[5]);

  // When the writer is gone another may write.
  w.reset();
  auto w2 = open(path);
  CHECK(count(w2.get()) == 9);
}

TEST_CASE("a reopen after each kind of operation returns the same results") {
  TempDir dir;
  const std::string path = dir.sub("c");
  const size_t n = 400;
  const auto v = clustered_vectors(n + 50, kDim, 8, 8);
  const auto q = unit_vectors(6, kDim, 9);
  const size_t k = 8;

  auto compare_after_reopen = [&](Handle& c, const char* what) {
    INFO("after " << what);
    auto before = search(c.get(), q.data(), 6, kDim, k);
    auto ids = all_ids(c.get());
    auto spec = effective_spec(c.get());
    c.reset();
    c = open(path);
    CHECK(all_ids(c.get()) == ids);
    CHECK(effective_spec(c.get()) == spec);
    auto after = search(c.get(), q.data(), 6, kDim, k);
    CHECK(after.ids == before.ids);
    for (size_t i = 0; i < before.scores.size(); ++i) CHECK(after.scores[i] == Approx(before.scores[i]).margin(1e-6));
  };

  Handle c = create(path, kDim);
  auto ids = add(c.get(), uris("p", n), std::vector<float>(v.begin(), v.begin() + long(n * kDim)), kDim);
  compare_after_reopen(c, "add");
  auto up = items_for({"p1", "p2"});
  ok(cbir_collection_upsert(nullptr, c.get(), up.data(), v.data() + n * kDim, 2, kDim));
  compare_after_reopen(c, "upsert");
  ok(cbir_collection_remove(nullptr, c.get(), ids.data() + 10, 30));
  compare_after_reopen(c, "remove");
  ok(cbir_collection_rebuild(c.get(), "hnsw:M=16,efSearch=200"));
  compare_after_reopen(c, "rebuild to hnsw");
  ok(cbir_collection_remove(nullptr, c.get(), ids.data() + 50, 20));
  compare_after_reopen(c, "remove under hnsw (masked)");
  cbir_collection_info_t* info = nullptr;
  ok(cbir_collection_info(&info, c.get()));
  CHECK(info->masked == 20);
  cbir_free(info);
  ok(cbir_collection_compact(c.get()));
  ok(cbir_collection_info(&info, c.get()));
  CHECK(info->masked == 0);
  CHECK(info->count == n - 50);
  cbir_free(info);
  compare_after_reopen(c, "compact");
  ok(cbir_collection_rebuild(c.get(), "ivf:nlist=8,nprobe=8,code=flat"));
  compare_after_reopen(c, "rebuild to ivf");
  ok(cbir_collection_remove(nullptr, c.get(), ids.data() + 100, 5));
  compare_after_reopen(c, "remove under ivf");
  ok(cbir_collection_verify(c.get()));
}
