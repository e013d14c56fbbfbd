// Ingest through the C API, on a tiny test bundle: what is added, skipped, reused, updated,
// pruned, reported and cancelled.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cbir.h"
#include "test_model_util.hpp"

namespace fs = std::filesystem;
using cbir_test::TempDir;

namespace {

// A binary PPM (P6) of w x h with a pattern drawn from `seed`: distinct content per seed.
void write_ppm(const std::string& path, int w, int h, int seed) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << w << " " << h << "\n255\n";
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      unsigned char px[3] = {static_cast<unsigned char>((x * (seed + 3) + y * 7) & 255),
                             static_cast<unsigned char>((y * (seed + 5)) & 255),
                             static_cast<unsigned char>((seed * 40 + x * y) & 255)};
      out.write(reinterpret_cast<const char*>(px), 3);
    }
}

std::string clip_bundle(const std::string& models) {
  const auto index = cbir_test::read_json(models + "/index.json");
  for (const auto& b : index["bundles"])
    if (b["family"] == "chinese-clip" && b["precision"] == "fp32") return models + "/" + b["dir"].get<std::string>();
  FAIL("no fp32 chinese-clip bundle in " << models);
  return "";
}

struct Fixture {
  cbir_model_t* model = nullptr;
  cbir_collection_t* coll = nullptr;
  cbir_model_info_t info{};

  Fixture(const std::string& bundle, const std::string& db) {
    REQUIRE(cbir_model_open(&model, bundle.c_str(), nullptr) == CBIR_OK);
    info.version = sizeof info;
    REQUIRE(cbir_model_info(&info, model) == CBIR_OK);
    cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
    o.flags = CBIR_OPEN_CREATE;
    o.dim = info.dim;
    o.fingerprint = info.fingerprint;
    o.index_spec = "flat";
    INFO(cbir_last_error());
    REQUIRE(cbir_collection_open(&coll, db.c_str(), &o) == CBIR_OK);
  }
  ~Fixture() {
    cbir_collection_close(coll);
    cbir_model_close(model);
  }

  cbir_ingest_summary_t run(const std::string& dir, cbir_ingest_options_t opts = CBIR_INGEST_OPTIONS_INIT,
                            std::vector<std::pair<std::string, int>>* failures = nullptr) {
    cbir_ingest_report_t* r = nullptr;
    INFO(cbir_last_error());
    REQUIRE(cbir_ingest_dir(&r, coll, model, dir.c_str(), &opts) == CBIR_OK);
    cbir_ingest_summary_t s;
    s.version = sizeof s;
    REQUIRE(cbir_ingest_report_summary(&s, r) == CBIR_OK);
    REQUIRE(cbir_ingest_report_failures(r) == s.failed);
    for (size_t i = 0; failures && i < s.failed; ++i) {
      const char* path = nullptr;
      const char* msg = nullptr;
      int32_t code = 0;
      REQUIRE(cbir_ingest_report_failure(r, i, &path, &code, &msg) == CBIR_OK);
      CHECK(std::string(msg).find(fs::path(path).filename().string()) != std::string::npos);
      failures->emplace_back(fs::path(path).filename().string(), code);
    }
    cbir_ingest_report_free(r);
    return s;
  }

  uint64_t count() {
    uint64_t n = 0;
    REQUIRE(cbir_collection_count(&n, coll) == CBIR_OK);
    return n;
  }

  int64_t id_of(const std::string& path) {
    int64_t id = -1;
    REQUIRE(cbir_collection_find(&id, coll, fs::absolute(path).lexically_normal().c_str()) == CBIR_OK);
    return id;
  }

  std::vector<float> vector_of(int64_t id) {
    std::vector<float> v(static_cast<size_t>(info.dim));
    REQUIRE(cbir_collection_get_vector(v.data(), v.size(), coll, id) == CBIR_OK);
    return v;
  }
};

int cancel_after_first(void* user, const cbir_ingest_progress_t* p) {
  auto* calls = static_cast<int*>(user);
  ++*calls;
  CHECK(p->done <= p->total);
  return 1;
}

}  // namespace

TEST_CASE("ingest adds, skips, reuses, updates, prunes and reports") {
  CBIR_REQUIRE_TEST_MODELS(models);
  TempDir tmp("ingest");
  const std::string images = tmp / "images";
  fs::create_directories(images + "/sub");
  for (int i = 0; i < 6; ++i) write_ppm(images + "/img" + std::to_string(i) + ".ppm", 40 + i, 30, i);
  write_ppm(images + "/sub/deep.ppm", 33, 17, 9);
  { std::ofstream(images + "/notes.txt") << "not an image, and not an image extension"; }
  { std::ofstream(images + "/fake.png") << "<html>not a png</html>"; }
  { std::ofstream(images + "/empty.jpg"); }

  Fixture f(clip_bundle(models), tmp / "db");

  std::vector<std::pair<std::string, int>> failures;
  cbir_ingest_summary_t s = f.run(images, CBIR_INGEST_OPTIONS_INIT, &failures);
  CHECK(s.found == 9);  // 7 images + 2 bad files with image extensions; notes.txt filtered out
  CHECK(s.added == 7);
  CHECK(s.failed == 2);
  std::sort(failures.begin(), failures.end());
  REQUIRE(failures.size() == 2);
  CHECK(failures[0] == std::make_pair(std::string("empty.jpg"), int(CBIR_EIMAGE_EMPTY)));
  CHECK(failures[1] == std::make_pair(std::string("fake.png"), int(CBIR_EIMAGE_FORMAT)));
  CHECK(f.count() == 7);

  SECTION("an image query finds the image itself first") {
    std::string p = images + "/img3.ppm";
    const char* path = p.c_str();
    std::vector<float> q(static_cast<size_t>(f.info.dim));
    int32_t status = -1;
    REQUIRE(cbir_model_embed_image_files(q.data(), &status, f.model, &path, 1) == CBIR_OK);
    REQUIRE(status == CBIR_OK);
    int64_t ids[3];
    float scores[3];
    REQUIRE(cbir_collection_search(ids, scores, f.coll, q.data(), 1, q.size(), 3, nullptr) == CBIR_OK);
    CHECK(ids[0] == f.id_of(p));
    CHECK(scores[0] == Approx(1.0f).margin(1e-4));
  }

  SECTION("re-running adds nothing") {
    s = f.run(images);
    CHECK(s.added == 0);
    CHECK(s.unchanged == 7);
    CHECK(s.failed == 2);
    CHECK(f.count() == 7);
  }

  SECTION("a copy under another name reuses the stored vector") {
    fs::copy_file(images + "/img2.ppm", images + "/copy_of_2.ppm");
    s = f.run(images);
    CHECK(s.duplicates == 1);
    CHECK(s.added == 0);
    CHECK(f.count() == 8);
    CHECK(f.vector_of(f.id_of(images + "/copy_of_2.ppm")) == f.vector_of(f.id_of(images + "/img2.ppm")));
  }

  SECTION("a touched file keeps its item; a changed file is encoded again, keeping its id") {
    int64_t id1 = f.id_of(images + "/img1.ppm");
    int64_t id4 = f.id_of(images + "/img4.ppm");
    std::vector<float> before = f.vector_of(id4);
    fs::last_write_time(images + "/img1.ppm", fs::file_time_type::clock::now() + std::chrono::hours(1));
    write_ppm(images + "/img4.ppm", 44, 30, 77);
    s = f.run(images);
    CHECK(s.unchanged == 6);
    CHECK(s.updated == 1);
    CHECK(s.added == 0);
    CHECK(f.id_of(images + "/img1.ppm") == id1);
    CHECK(f.id_of(images + "/img4.ppm") == id4);
    CHECK(f.vector_of(id4) != before);
  }

  SECTION("prune removes exactly the items whose files are gone") {
    fs::remove(images + "/img0.ppm");
    fs::remove(images + "/sub/deep.ppm");
    cbir_ingest_options_t o = CBIR_INGEST_OPTIONS_INIT;
    s = f.run(images, o);
    CHECK(s.removed == 0);  // not without prune
    CHECK(f.count() == 7);
    o.prune = 1;
    s = f.run(images, o);
    CHECK(s.removed == 2);
    CHECK(f.count() == 5);
    int64_t id = -1;
    CHECK(cbir_collection_find(&id, f.coll, fs::absolute(images + "/img0.ppm").c_str()) == CBIR_ENOTFOUND);
    CHECK(cbir_collection_find(&id, f.coll, fs::absolute(images + "/img5.ppm").c_str()) == CBIR_OK);
  }

  SECTION("extension filter and non-recursive walks") {
    TempDir tmp2("ingest-filter");
    Fixture g(clip_bundle(models), tmp2 / "db");
    cbir_ingest_options_t o = CBIR_INGEST_OPTIONS_INIT;
    o.recursive = 0;
    s = g.run(images, o);
    CHECK(s.added == 6);  // sub/deep.ppm not reached
    o.recursive = 1;
    o.extensions = "PNG";
    s = g.run(images, o);
    CHECK(s.found == 1);  // fake.png only
    CHECK(s.failed == 1);
  }
}

TEST_CASE("ingest can be cancelled and resumes without doubles") {
  CBIR_REQUIRE_TEST_MODELS(models);
  TempDir tmp("ingest-cancel");
  const std::string images = tmp / "images";
  fs::create_directories(images);
  for (int i = 0; i < 24; ++i) write_ppm(images + "/p" + std::to_string(i) + ".ppm", 20 + i, 20, i);
  Fixture f(clip_bundle(models), tmp / "db");

  cbir_ingest_options_t o = CBIR_INGEST_OPTIONS_INIT;
  int calls = 0;
  o.progress = cancel_after_first;
  o.progress_user = &calls;
  o.workers = 1;
  cbir_ingest_summary_t s = f.run(images, o);
  CHECK(calls == 1);
  CHECK(s.cancelled == 1);
  CHECK(s.added < 24);
  CHECK(f.count() == s.added);

  s = f.run(images);
  CHECK(s.cancelled == 0);
  CHECK(f.count() == 24);
  CHECK(s.added + s.unchanged == 24);
}

TEST_CASE("ingest refuses bad arguments and a model the collection was not made for") {
  CBIR_REQUIRE_TEST_MODELS(models);
  TempDir tmp("ingest-errors");
  Fixture f(clip_bundle(models), tmp / "db");
  cbir_ingest_report_t* r = reinterpret_cast<cbir_ingest_report_t*>(&f);  // must be reset to NULL

  CHECK(cbir_ingest_dir(&r, f.coll, f.model, nullptr, nullptr) == CBIR_EINVAL);
  CHECK(r == nullptr);
  CHECK(std::string(cbir_last_error()).find("dir") != std::string::npos);
  CHECK(cbir_ingest_dir(&r, nullptr, f.model, tmp.str().c_str(), nullptr) == CBIR_EINVAL);
  CHECK(cbir_ingest_dir(&r, f.coll, nullptr, tmp.str().c_str(), nullptr) == CBIR_EINVAL);
  CHECK(cbir_ingest_dir(&r, f.coll, f.model, (tmp / "missing").c_str(), nullptr) == CBIR_ENOTFOUND);
  cbir_ingest_options_t bad = CBIR_INGEST_OPTIONS_INIT;
  bad.workers = -1;
  CHECK(cbir_ingest_dir(&r, f.coll, f.model, tmp.str().c_str(), &bad) == CBIR_EINVAL);
  bad = CBIR_INGEST_OPTIONS_INIT;
  bad.extensions = "jpg,,png";
  CHECK(cbir_ingest_dir(&r, f.coll, f.model, tmp.str().c_str(), &bad) == CBIR_EINVAL);

  // Files by path: a missing one is that file's failure, not the call's.
  const std::string good = tmp / "one.ppm";
  write_ppm(good, 16, 16, 1);
  const std::string missing = tmp / "missing.ppm";
  const char* paths[] = {good.c_str(), missing.c_str()};
  REQUIRE(cbir_ingest_files(&r, f.coll, f.model, paths, 2, nullptr) == CBIR_OK);
  cbir_ingest_summary_t s;
  s.version = sizeof s;
  REQUIRE(cbir_ingest_report_summary(&s, r) == CBIR_OK);
  CHECK((s.added == 1 && s.failed == 1 && s.found == 2));
  int32_t code = 0;
  REQUIRE(cbir_ingest_report_failure(r, 0, nullptr, &code, nullptr) == CBIR_OK);
  CHECK(code == CBIR_ENOTFOUND);
  CHECK(cbir_ingest_report_failure(r, 1, nullptr, nullptr, nullptr) == CBIR_EINVAL);
  cbir_ingest_report_free(r);
  cbir_ingest_report_free(nullptr);

  // A DINOv2 bundle has another fingerprint and dimension.
  std::string dino;
  const auto index = cbir_test::read_json(models + "/index.json");
  for (const auto& b : index["bundles"])
    if (b["family"] == "dinov2") dino = models + "/" + b["dir"].get<std::string>();
  REQUIRE(!dino.empty());
  cbir_model_t* other = nullptr;
  REQUIRE(cbir_model_open(&other, dino.c_str(), nullptr) == CBIR_OK);
  CHECK(cbir_ingest_dir(&r, f.coll, other, tmp.str().c_str(), nullptr) == CBIR_EMISMATCH);
  CHECK(std::string(cbir_last_error()).find("not the one the collection") != std::string::npos);
  cbir_model_close(other);
}
