// Photo facts and user attributes (issue 19): stored, read back through the C API, kept or
// dropped with their items, and filtered on: every filter must select exactly the items a
// reference predicate computed here from the same facts selects.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "store/collection.hpp"
#include "test_store_util.hpp"

using namespace store_test;

namespace {

constexpr size_t kDim = 8, kN = 240;

// What the test gives each item, and the reference the filters are checked against.
struct Facts {
  std::string uri, format, make, model;
  std::optional<int64_t> taken;
  std::optional<double> lat, lon;
  std::optional<int64_t> rating;  // attr.rating (int)
  std::optional<std::string> album;
  std::optional<bool> fav;
  std::optional<int64_t> shot;  // attr.shot (time)
  std::optional<double> score;  // attr.score (float)
};

constexpr int64_t kJan2024 = 1704067200;

Facts facts_for(size_t i) {
  Facts f;
  f.uri = "/p/" + std::to_string(i) + ".jpg";
  static const char* formats[] = {"jpeg", "png", "heic", ""};
  f.format = formats[i % 4];
  f.make = i % 3 == 0 ? "Apple" : i % 3 == 1 ? "Canon" : "";
  f.model = f.make.empty() ? "" : (i % 2 ? "iPhone 15 Pro" : "EOS R5");
  if (i % 5 != 0) f.taken = kJan2024 + int64_t(i) * 3 * 86400;
  if (i % 4 == 0) {  // around Paris, Rome or Sydney
    const double base[3][2] = {{48.8566, 2.3522}, {41.9028, 12.4964}, {-33.8688, 151.2093}};
    f.lat = base[i % 3][0] + 0.01 * double(i % 7);
    f.lon = base[i % 3][1] - 0.02 * double(i % 5);
  }
  if (i % 2 == 0) f.rating = int64_t(i % 6);
  if (i % 3 != 2) f.album = i % 3 == 0 ? "Rome 2024" : "Roadtrip";
  if (i % 7 < 3) f.fav = i % 7 == 0;
  if (i % 4 == 1) f.shot = kJan2024 + int64_t(i) * 86400;
  if (i % 5 == 2) f.score = double(i % 10) / 10.0;
  return f;
}

double km(double la1, double lo1, double la2, double lo2) {
  const double r = M_PI / 180;
  const double a = std::pow(std::sin((la2 - la1) * r / 2), 2) +
                   std::cos(la1 * r) * std::cos(la2 * r) * std::pow(std::sin((lo2 - lo1) * r / 2), 2);
  return 2 * 6371.0088 * std::asin(std::sqrt(a));
}

cbir_attr_t attr(int64_t id, const char* key, int32_t type) {
  cbir_attr_t a{};
  a.id = id;
  a.key = key;
  a.type = type;
  return a;
}

// Builds the collection: items with photo facts through the store (ingest's way in), then the
// attributes through the C API.
std::vector<int64_t> build(const std::string& path, std::vector<Facts>& facts,
                           std::vector<float>& vecs) {
  cbir::store::OpenOptions oo;
  oo.create = true;
  oo.dim = kDim;
  oo.fingerprint = "test-model";
  oo.index_spec = "flat";
  vecs = unit_vectors(kN, kDim, 11);
  std::vector<cbir::store::ItemInfo> items(kN);
  for (size_t i = 0; i < kN; ++i) {
    facts.push_back(facts_for(i));
    const Facts& f = facts.back();
    items[i].uri = f.uri;
    items[i].photo.format = f.format;
    items[i].photo.make = f.make;
    items[i].photo.model = f.model;
    items[i].photo.taken = f.taken;
    items[i].photo.lat = f.lat;
    items[i].photo.lon = f.lon;
  }
  std::vector<int64_t> ids;
  {
    cbir::store::Collection c(path, oo);
    ids = c.add(items.data(), vecs.data(), kN, kDim, false);
    c.close();
  }
  auto c = open(path);
  std::vector<cbir_attr_t> attrs;
  std::vector<std::string> albums(kN);
  for (size_t i = 0; i < kN; ++i) {
    const Facts& f = facts[i];
    if (f.rating) {
      attrs.push_back(attr(ids[i], "rating", CBIR_ATTR_INT));
      attrs.back().int_value = *f.rating;
    }
    if (f.album) {
      albums[i] = *f.album;
      attrs.push_back(attr(ids[i], "album", CBIR_ATTR_STRING));
      attrs.back().string_value = albums[i].c_str();
    }
    if (f.fav) {
      attrs.push_back(attr(ids[i], "fav", CBIR_ATTR_BOOL));
      attrs.back().int_value = *f.fav;
    }
    if (f.shot) {
      attrs.push_back(attr(ids[i], "shot", CBIR_ATTR_TIME));
      attrs.back().int_value = *f.shot;
    }
    if (f.score) {
      attrs.push_back(attr(ids[i], "score", CBIR_ATTR_FLOAT));
      attrs.back().float_value = *f.score;
    }
  }
  size_t changed = 0;
  ok(cbir_collection_set_attrs(&changed, c.get(), attrs.data(), attrs.size()));
  CHECK(changed == attrs.size());
  ok(cbir_collection_commit(c.get()));
  return ids;
}

std::set<int64_t> selected(const cbir_collection_t* c, const std::string& where) {
  cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
  o.where = where.c_str();
  std::vector<float> q(kDim, 0.f);
  q[0] = 1.f;
  const Results r = search(c, q.data(), 1, kDim, kN, &o);
  std::set<int64_t> out;
  for (int64_t id : r.ids)
    if (id >= 0) out.insert(id);
  return out;
}

}  // namespace

TEST_CASE("filters on photo facts and attributes select exactly what a reference predicate does") {
  TempDir dir;
  std::vector<Facts> facts;
  std::vector<float> vecs;
  const auto ids = build(dir.sub("c"), facts, vecs);
  auto c = open(dir.sub("c"), CBIR_OPEN_READONLY);

  const int64_t mar2024 = 1709251200, jul2024 = 1719792000;
  struct Case {
    const char* expr;
    std::function<bool(const Facts&)> want;
  };
  const std::vector<Case> cases = {
      {"taken >= '2024-03-01' and make = 'Apple'",
       [&](const Facts& f) { return f.taken && *f.taken >= mar2024 && f.make == "Apple"; }},
      {"not make = 'Canon'", [](const Facts& f) { return f.make != "Canon"; }},
      {"format in ('heic', 'png')", [](const Facts& f) { return f.format == "heic" || f.format == "png"; }},
      {"model like '%pro%'", [](const Facts& f) { return f.model == "iPhone 15 Pro"; }},
      {"taken between '2024-03-01' and '2024-07-01'",
       [&](const Facts& f) { return f.taken && *f.taken >= mar2024 && *f.taken <= jul2024; }},
      {"not taken < '2024-03-01'", [&](const Facts& f) { return !(f.taken && *f.taken < mar2024); }},
      {"near(48.8566, 2.3522, 5)",
       [](const Facts& f) { return f.lat && km(48.8566, 2.3522, *f.lat, *f.lon) <= 5; }},
      {"near(-33.87, 151.2, 1000) or lat between 41 and 42.5",
       [](const Facts& f) {
         return f.lat && (km(-33.87, 151.2, *f.lat, *f.lon) <= 1000 || (*f.lat >= 41 && *f.lat <= 42.5));
       }},
      {"attr.rating >= 4", [](const Facts& f) { return f.rating && *f.rating >= 4; }},
      {"not attr.rating >= 4", [](const Facts& f) { return !(f.rating && *f.rating >= 4); }},
      {"attr.rating in (1, 3) or attr.rating = 5",
       [](const Facts& f) { return f.rating && (*f.rating == 1 || *f.rating == 3 || *f.rating == 5); }},
      {"attr.album like 'Ro%' and attr.fav = true",
       [](const Facts& f) { return f.album && f.fav && *f.fav; }},
      {"attr.album not in ('Rome 2024')", [](const Facts& f) { return f.album && *f.album != "Rome 2024"; }},
      {"attr.fav = false", [](const Facts& f) { return f.fav && !*f.fav; }},
      {"attr.shot between '2024-02-01' and '2024-05-31'",
       [](const Facts& f) { return f.shot && *f.shot >= 1706745600 && *f.shot <= 1717113600; }},
      {"attr.score > 0.5", [](const Facts& f) { return f.score && *f.score > 0.5; }},
      {"attr.rating = 'three'", [](const Facts&) { return false; }},
      {"attr.missing = 1", [](const Facts&) { return false; }},
      {"attr.Rating >= 0", [](const Facts&) { return false; }},  // keys are case-sensitive
  };
  for (const Case& tc : cases) {
    INFO(tc.expr);
    std::set<int64_t> want;
    for (size_t i = 0; i < kN; ++i)
      if (tc.want(facts[i])) want.insert(ids[i]);
    CHECK(selected(c.get(), tc.expr) == want);
  }
}

TEST_CASE("photo facts and attributes read back through the C API, typed") {
  TempDir dir;
  std::vector<Facts> facts;
  std::vector<float> vecs;
  const auto ids = build(dir.sub("c"), facts, vecs);
  auto c = open(dir.sub("c"));

  cbir_photo_t* p = nullptr;
  ok(cbir_collection_get_photo(&p, c.get(), ids[4]));  // i = 4: taken, position, Canon
  CHECK(std::string(p->format) == "jpeg");
  CHECK(p->has_taken == 1);
  CHECK(p->taken == *facts[4].taken);
  CHECK(p->has_offset == 0);
  CHECK(std::string(p->make) == "Canon");
  CHECK(std::string(p->model) == "EOS R5");
  CHECK(p->has_location == 1);
  CHECK(p->lat == Approx(*facts[4].lat));
  CHECK(p->lon == Approx(*facts[4].lon));
  cbir_free(p);
  ok(cbir_collection_get_photo(&p, c.get(), ids[5]));  // i = 5: png, no time, no position
  CHECK(std::string(p->format) == "png");
  CHECK(p->has_taken == 0);
  CHECK(p->has_location == 0);
  cbir_free(p);
  CHECK(cbir_collection_get_photo(&p, c.get(), 999999) == CBIR_ENOTFOUND);
  CHECK(p == nullptr);

  cbir_attr_t* a = nullptr;
  size_t n = 0;
  ok(cbir_collection_get_attrs(&a, &n, c.get(), ids[0]));  // rating 0, album Rome, fav true
  REQUIRE(n == 3);
  CHECK(std::string(a[0].key) == "album");
  CHECK(a[0].type == CBIR_ATTR_STRING);
  CHECK(std::string(a[0].string_value) == "Rome 2024");
  CHECK(std::string(a[1].key) == "fav");
  CHECK(a[1].type == CBIR_ATTR_BOOL);
  CHECK(a[1].int_value == 1);
  CHECK(std::string(a[2].key) == "rating");
  CHECK(a[2].type == CBIR_ATTR_INT);
  CHECK(a[2].int_value == 0);
  cbir_free(a);

  // All or nothing: a batch naming a missing item changes nothing.
  cbir_attr_t batch[2] = {attr(ids[1], "new", CBIR_ATTR_INT), attr(424242, "new", CBIR_ATTR_INT)};
  size_t changed = 7;
  CHECK(cbir_collection_set_attrs(&changed, c.get(), batch, 2) == CBIR_ENOTFOUND);
  CHECK(changed == 0);
  CHECK(std::string(cbir_last_error()).find("424242") != std::string::npos);
  CHECK(selected(c.get(), "attr.new = 0").empty());

  // Bad keys and values: CBIR_EINVAL naming the entry, nothing written.
  for (const char* key : {"", "1abc", "a b", "x;drop", "ключ"}) {
    cbir_attr_t bad = attr(ids[1], key, CBIR_ATTR_INT);
    INFO(key);
    CHECK(cbir_collection_set_attrs(nullptr, c.get(), &bad, 1) == CBIR_EINVAL);
  }
  cbir_attr_t bad = attr(ids[1], "f", CBIR_ATTR_FLOAT);
  bad.float_value = NAN;
  CHECK(cbir_collection_set_attrs(nullptr, c.get(), &bad, 1) == CBIR_EINVAL);
  bad = attr(ids[1], "b", CBIR_ATTR_BOOL);
  bad.int_value = 2;
  CHECK(cbir_collection_set_attrs(nullptr, c.get(), &bad, 1) == CBIR_EINVAL);
  bad = attr(ids[1], "s", CBIR_ATTR_STRING);
  bad.string_value = "\xff\xfe";
  CHECK(cbir_collection_set_attrs(nullptr, c.get(), &bad, 1) == CBIR_EINVAL);
  bad = attr(ids[1], "t", 9);
  CHECK(cbir_collection_set_attrs(nullptr, c.get(), &bad, 1) == CBIR_EINVAL);
  CHECK(cbir_collection_set_attrs(nullptr, c.get(), nullptr, 1) == CBIR_EINVAL);

  // Replace, then remove (CBIR_ATTR_NONE); removing a key the item lacks changes nothing.
  cbir_attr_t set = attr(ids[0], "rating", CBIR_ATTR_FLOAT);
  set.float_value = 4.5;
  ok(cbir_collection_set_attrs(&changed, c.get(), &set, 1));
  // Even items hold ratings 0, 2 or 4: only item 0 is above 4.2 now.
  CHECK(selected(c.get(), "attr.rating > 4.2") == std::set<int64_t>{ids[0]});
  cbir_attr_t rm[2] = {attr(ids[0], "rating", CBIR_ATTR_NONE), attr(ids[0], "never", CBIR_ATTR_NONE)};
  ok(cbir_collection_set_attrs(&changed, c.get(), rm, 2));
  CHECK(changed == 1);
  CHECK(selected(c.get(), "attr.rating > 4.2").count(ids[0]) == 0);

  // Upsert keeps the item's attributes; removal drops them, and a new item never inherits.
  auto again = items_for({facts[3].uri});
  int64_t same = -1;
  ok(cbir_collection_upsert(&same, c.get(), again.data(), vecs.data(), 1, kDim));
  CHECK(same == ids[3]);
  ok(cbir_collection_get_attrs(&a, &n, c.get(), ids[3]));
  CHECK(n == 1);  // album (i = 3: no rating, fav or shot)
  cbir_free(a);
  ok(cbir_collection_remove_uri(c.get(), facts[3].uri.c_str()));
  CHECK(cbir_collection_get_attrs(&a, &n, c.get(), ids[3]) == CBIR_ENOTFOUND);
  int64_t fresh = -1;
  ok(cbir_collection_add(&fresh, c.get(), again.data(), vecs.data(), 1, kDim));
  ok(cbir_collection_get_attrs(&a, &n, c.get(), fresh));
  CHECK(n == 0);
  CHECK(a == nullptr);

  // Durable: committed attributes are there after reopening; a read-only handle cannot write.
  ok(cbir_collection_commit(c.get()));
  c.reset();
  auto ro = open(dir.sub("c"), CBIR_OPEN_READONLY);
  ok(cbir_collection_get_attrs(&a, &n, ro.get(), ids[6]));
  CHECK(n == 2);  // rating 0, album Rome 2024
  cbir_free(a);
  cbir_attr_t w = attr(ids[6], "x", CBIR_ATTR_INT);
  CHECK(cbir_collection_set_attrs(nullptr, ro.get(), &w, 1) == CBIR_EINVAL);
}

TEST_CASE("a collection made before photo facts and attributes opens, reads none, and gains them") {
  TempDir dir;
  const std::string path = dir.sub("old");
  const auto vecs = unit_vectors(3, kDim, 4);
  {
    auto c = create(path, kDim);
    add(c.get(), {"/a", "/b", "/c"}, vecs, kDim);
  }
  // The schema of a release before them: no photo columns, no attrs table.
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((path + "/catalog.sqlite").c_str(), &db) == SQLITE_OK);
    for (const char* column : {"format", "taken", "taken_offset", "make", "model", "lat", "lon"}) {
      const std::string sql = std::string("ALTER TABLE items DROP COLUMN ") + column;
      REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    }
    REQUIRE(sqlite3_exec(db, "DROP TABLE attrs", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  {  // A reader: no facts, no attributes, filters on them select nothing; the rest works.
    auto ro = open(path, CBIR_OPEN_READONLY);
    CHECK(selected(ro.get(), "make = 'Apple' or attr.x = 1 or near(0, 0, 20000)").empty());
    CHECK(selected(ro.get(), "not make = 'Apple'").size() == 3);
    CHECK(selected(ro.get(), "not attr.x = 1").size() == 3);
    CHECK(selected(ro.get(), "path like '/b'").size() == 1);
    cbir_photo_t* p = nullptr;
    ok(cbir_collection_get_photo(&p, ro.get(), 1));
    CHECK(std::string(p->format).empty());
    cbir_free(p);
    cbir_attr_t* a = nullptr;
    size_t n = 9;
    ok(cbir_collection_get_attrs(&a, &n, ro.get(), 1));
    CHECK(n == 0);
  }
  {  // A writer adds the columns and the table; attributes then work.
    auto w = open(path);
    cbir_attr_t a = attr(1, "album", CBIR_ATTR_STRING);
    a.string_value = "Rome";
    ok(cbir_collection_set_attrs(nullptr, w.get(), &a, 1));
    CHECK(selected(w.get(), "attr.album = 'Rome'") == std::set<int64_t>{1});
    ok(cbir_collection_verify(w.get()));
  }
}
