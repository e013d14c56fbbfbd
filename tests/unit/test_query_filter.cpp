// Filter expressions (lib/query, docs/filters.md): what they compile to, how they fail, and
// searches through the C API returning the top-k among exactly the items a reference predicate
// selects, computed here from the items' own fields.
#include <catch2/catch.hpp>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "query/filter.hpp"
#include "test_store_util.hpp"

using namespace store_test;
using cbir::query::compile_filter;

namespace {

int status_of(const std::string& expr, std::string* message = nullptr) {
  try {
    compile_filter(expr);
    return CBIR_OK;
  } catch (const cbir::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("filters compile to SQL with every value a parameter") {
  const auto c = compile_filter("width >= 1000 and (path like '%/beach/%' or not height < 5)");
  CHECK(c.sql == "(width >= ? AND (uri LIKE ? ESCAPE '\\' OR NOT height < ?))");
  REQUIRE(c.params.size() == 3);
  CHECK(std::get<int64_t>(c.params[0]) == 1000);
  CHECK(std::get<std::string>(c.params[1]) == "%/beach/%");
  CHECK(std::get<int64_t>(c.params[2]) == 5);

  const auto in = compile_filter("SIZE not in (1, 2,3) OR mtime between '2024-06-01' and "
                                 "'2024-08-31T23:59:59'");
  CHECK(in.sql == "(size NOT IN (?, ?, ?) OR mtime BETWEEN ? AND ?)");
  // mtime is stored in nanoseconds; a time literal is seconds.
  CHECK(std::get<int64_t>(in.params[3]) == 1717200000 * int64_t{1000000000});  // 2024-06-01 UTC
  CHECK(std::get<int64_t>(in.params[4]) == 1725148799 * int64_t{1000000000});  // 08-31 23:59:59
  // Fields an item may lack are false for it, not NULL: "not" then selects the rest.
  CHECK(compile_filter("not make = 'Apple'").sql == "(NOT coalesce(make = ?, 0))");
  const auto attr = compile_filter("attr.rating >= 4");
  CHECK(attr.sql == "(id IN (SELECT id FROM attrs WHERE key = ? AND (type IN (2, 3, 4, 5) AND value >= ?)))");
  CHECK(std::get<std::string>(attr.params[0]) == "rating");
  CHECK(compile_filter("near(48.85, 2.35, 10)").sql == "(coalesce(km_between(lat, lon, ?, ?) <= ?, 0))");
  // Quotes inside strings: doubled, the value keeps one.
  const auto q = compile_filter("path = 'it''s \"here\"; DROP TABLE items; --'");
  CHECK(q.sql == "(uri = ?)");
  CHECK(std::get<std::string>(q.params[0]) == "it's \"here\"; DROP TABLE items; --");
}

TEST_CASE("malformed filters are CBIR_EINVAL with the position of the fault") {
  struct Case {
    std::string expr, what;
    int position;  // 0: not checked
  };
  const std::vector<Case> cases = {
      {"", "empty", 1},
      {"   ", "empty", 1},
      {"width >", "expected an integer for 'width'", 8},
      {"width > 'big'", "expected an integer for 'width'", 9},
      {"path = 5", "expected a string for 'path' (quote it)", 8},
      {"width = 1; DROP TABLE items", "unexpected character ';'", 10},
      {"width = 1 drop", "expected 'and', 'or' or the end of the filter", 11},
      {"colour = 'red'", "unknown field 'colour'", 1},
      {"path = 'open", "a string that is never closed", 8},
      {"(width = 1", "expected ')'", 11},
      {"width in (1, 2", "expected ',' or ')' in the 'in' list", 15},
      {"width between 1 or 2", "expected 'and' in 'between ... and ...'", 17},
      {"width like '%'", "'like' compares strings; 'width' is not one", 7},
      {"width = 99999999999999999999", "is not an integer", 0},
      {"mtime > '2024-13-01'", "expected a time", 0},
      {"width ! 3", "'!' must be followed by '=' ('!=')", 7},
      {"width not = 3", "expected 'in', 'between' or 'like' after 'not'", 11},
      {"path = 'a\xff'", "not valid UTF-8", 0},
  };
  for (const Case& c : cases) {
    std::string message;
    INFO("filter: " << c.expr);
    CHECK(status_of(c.expr, &message) == CBIR_EINVAL);
    CHECK_THAT(message, Catch::Contains(c.what));
    if (c.position) CHECK_THAT(message, Catch::Contains("at position " + std::to_string(c.position)));
  }
}

TEST_CASE("hostile sizes are refused quickly: deep nesting, huge expressions, endless lists") {
  std::string message;
  const std::string deep = std::string(1000, '(') + "width = 1" + std::string(1000, ')');
  CHECK(status_of(deep, &message) == CBIR_EINVAL);
  CHECK_THAT(message, Catch::Contains("nests more than 64 deep"));
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "not ";
  CHECK(status_of(nots + "width = 1") == CBIR_EINVAL);
  const std::string ok_depth = std::string(60, '(') + "width = 1" + std::string(60, ')');
  CHECK(status_of(ok_depth) == CBIR_OK);

  std::string huge = "path = '" + std::string(1 << 20, 'a') + "'";  // 1 MB
  CHECK(status_of(huge, &message) == CBIR_EINVAL);
  CHECK_THAT(message, Catch::Contains("more than the 65536 allowed"));

  std::string list = "width in (0";
  for (int i = 1; i < 12000; ++i) list += "," + std::to_string(i);
  CHECK(status_of(list + ")", &message) == CBIR_EINVAL);
  CHECK_THAT(message, Catch::Contains("more than 10000 values"));
}

TEST_CASE("photo fields, attributes and near() refuse bad values with their position") {
  const std::vector<std::pair<std::string, int>> cases = {
      {"near(91, 2, 10)", 6},        {"near(48, 200, 10)", 10}, {"near(48, 2, 0)", 13},
      {"near(48, 2)", 11},           {"near 48, 2, 1", 6},      {"taken > 'yesterday'", 9},
      {"attr.x = (1)", 10},          {"attr.x like 5", 13},     {"attr. = 1", 1},
      {"lat > 'north'", 7},          {"mtime > 99999999999999", 9}};
  for (const auto& [expr, position] : cases) {
    std::string message;
    INFO(expr);
    CHECK(status_of(expr, &message) == CBIR_EINVAL);
    INFO(message);
    CHECK(contains(message, "at position " + std::to_string(position)));
  }
}

TEST_CASE("search --where: the top-k among exactly the items the filter selects") {
  constexpr size_t kDim = 16, kN = 300;
  TempDir dir;
  auto c = create(dir.sub("c"), kDim);
  const auto vecs = unit_vectors(kN, kDim, 7);
  std::vector<std::string> u;
  std::vector<cbir_item_t> items(kN);
  for (size_t i = 0; i < kN; ++i)
    u.push_back((i % 3 == 0 ? "/photos/beach/" : i % 3 == 1 ? "/photos/city/" : "/scans/") +
                std::to_string(i) + (i % 2 ? ".jpg" : ".png"));
  for (size_t i = 0; i < kN; ++i) {
    items[i] = cbir_item_t{};
    items[i].uri = u[i].c_str();
    items[i].size = int64_t(1000 * i);
    items[i].mtime = (1700000000 + int64_t(i) * 86400) * int64_t{1000000000};
    items[i].width = int32_t(100 + 7 * i % 2000);
    items[i].height = int32_t(50 + 13 * i % 1500);
  }
  std::vector<int64_t> ids(kN);
  ok(cbir_collection_add(ids.data(), c.get(), items.data(), vecs.data(), kN, kDim));

  struct Case {
    const char* expr;
    std::function<bool(const cbir_item_t&)> want;
  };
  auto ends = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  const std::vector<Case> cases = {
      {"width >= 1000", [](const cbir_item_t& it) { return it.width >= 1000; }},
      {"path like '/photos/beach/%' and height < 700",
       [](const cbir_item_t& it) { return std::string(it.uri).rfind("/photos/beach/", 0) == 0 && it.height < 700; }},
      {"not (path like '%.png') or size between 5000 and 9000",
       [&](const cbir_item_t& it) { return !ends(it.uri, ".png") || (it.size >= 5000 && it.size <= 9000); }},
      {"mtime >= '2024-01-01' and width in (100, 107, 114, 121)",
       [](const cbir_item_t& it) {
         return it.mtime >= 1704067200 * int64_t{1000000000} && (it.width == 100 || it.width == 107 || it.width == 114 || it.width == 121);
       }},
      {"size > 10 and size < 0", [](const cbir_item_t&) { return false; }},
  };
  const float* q = vecs.data() + 5 * kDim;
  for (const Case& tc : cases) {
    INFO(tc.expr);
    std::vector<int64_t> match_ids;
    std::vector<float> match_vecs;
    for (size_t i = 0; i < kN; ++i)
      if (tc.want(items[i])) {
        match_ids.push_back(ids[i]);
        match_vecs.insert(match_vecs.end(), vecs.begin() + long(i * kDim), vecs.begin() + long((i + 1) * kDim));
      }
    const auto want = exact_top(match_ids, match_vecs, kDim, q, 10);
    cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
    o.where = tc.expr;
    const Results r = search(c.get(), q, 1, kDim, 10, &o);
    std::vector<int64_t> got;
    for (int64_t id : r.ids)
      if (id >= 0) got.push_back(id);
    CHECK(got == want);
  }

  // A hostile filter changes nothing: refused, and every item is still there.
  for (const char* bad : {"path = ''; DROP TABLE items; --'", "width = 1; DELETE FROM items",
                          "path = '' or 1=1"}) {
    cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
    o.where = bad;
    std::vector<int64_t> out(10);
    std::vector<float> scores(10);
    const int st = cbir_collection_search(out.data(), scores.data(), c.get(), q, 1, kDim, 10, &o);
    INFO(bad << ": " << cbir_last_error());
    CHECK(st == CBIR_EINVAL);
    CHECK(contains(cbir_last_error(), "at position"));
  }
  CHECK(count(c.get()) == kN);
  // Combined with uri_prefix and ids: the intersection.
  cbir_search_options_t o = CBIR_SEARCH_OPTIONS_INIT;
  o.where = "width < 1000";
  o.uri_prefix = "/scans/";
  o.ids = ids.data();
  o.n_ids = 150;
  const Results r = search(c.get(), q, 1, kDim, 300, &o);
  std::set<int64_t> allowed(ids.begin(), ids.begin() + 150);
  for (size_t i = 0; i < r.ids.size(); ++i) {
    if (r.ids[i] < 0) continue;
    const size_t at = size_t(std::find(ids.begin(), ids.end(), r.ids[i]) - ids.begin());
    CHECK(items[at].width < 1000);
    CHECK(std::string(items[at].uri).rfind("/scans/", 0) == 0);
    CHECK(allowed.count(r.ids[i]) == 1);
  }
}
