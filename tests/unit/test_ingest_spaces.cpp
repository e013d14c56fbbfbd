// Ingest into two vector spaces at once (issue 20) through the C API, on the tiny test bundles:
// a Chinese-CLIP and a DINOv2 bundle (their preprocessing differs: squash vs resize + centre
// crop). Each file is decoded once and each model's vector must equal what that model makes of
// the file on its own; a space added later is filled for the items that lack it, and only them.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cbir.h"
#include "test_model_util.hpp"

namespace fs = std::filesystem;
using cbir_test::TempDir;

namespace {

std::string bundle_of(const std::string& models, const std::string& dir) {
  const std::string path = models + "/" + dir;
  if (!fs::exists(path + "/bundle.json")) FAIL("no test bundle " << path);
  return path;
}

// A binary PPM of w x h, its pattern drawn from `seed`.
void write_ppm(const std::string& path, int w, int h, int seed) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << w << " " << h << "\n255\n";
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      unsigned char px[3] = {static_cast<unsigned char>((x * (seed + 3) + y * 7) & 255),
                             static_cast<unsigned char>((y * (seed + 5) + x) & 255),
                             static_cast<unsigned char>((seed * 40 + x * y) & 255)};
      out.write(reinterpret_cast<const char*>(px), 3);
    }
}

struct Model {
  cbir_model_t* raw = nullptr;
  cbir_model_info_t info{};
  explicit Model(const std::string& bundle) {
    INFO(cbir_last_error());
    REQUIRE(cbir_model_open(&raw, bundle.c_str(), nullptr) == CBIR_OK);
    info.version = sizeof info;
    REQUIRE(cbir_model_info(&info, raw) == CBIR_OK);
  }
  ~Model() { cbir_model_close(raw); }
  std::vector<float> embed(const std::string& path) const {
    std::vector<float> v(static_cast<size_t>(info.dim));
    int32_t status = 0;
    const char* p = path.c_str();
    REQUIRE(cbir_model_embed_image_files(v.data(), &status, raw, &p, 1) == CBIR_OK);
    return v;
  }
};

// The project's cosine (test_model_util.hpp), on whole vectors.
double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  return cbir_test::cosine(a.data(), b.data(), a.size());
}

cbir_ingest_summary_t ingest(cbir_collection_t* coll, const std::vector<cbir_space_model_t>& models,
                             const std::string& dir, int expect = CBIR_OK) {
  cbir_ingest_report_t* r = nullptr;
  cbir_ingest_summary_t s{};
  s.version = sizeof s;
  const int status = cbir_ingest_dir_spaces(&r, coll, models.data(), models.size(), dir.c_str(), nullptr);
  INFO(cbir_last_error());
  REQUIRE(status == expect);
  if (status != CBIR_OK) return s;
  REQUIRE(cbir_ingest_report_summary(&s, r) == CBIR_OK);
  cbir_ingest_report_free(r);
  return s;
}

std::vector<uint64_t> counts(cbir_collection_t* coll) {
  cbir_space_info_t* infos = nullptr;
  size_t n = 0;
  REQUIRE(cbir_collection_spaces(&infos, &n, coll) == CBIR_OK);
  std::vector<uint64_t> out;
  for (size_t i = 0; i < n; ++i) out.push_back(infos[i].count);
  cbir_free(infos);
  return out;
}

}  // namespace

TEST_CASE("ingest into two spaces: one decode, each model's own vectors, a later space filled",
          "[ingest][spaces]") {
  const char* models_dir = std::getenv("CBIR_TEST_MODELS");
  if (models_dir == nullptr) {
    WARN("SKIPPED: CBIR_TEST_MODELS is not set (the make_test_models fixture sets it)");
    return;
  }
  Model clip(bundle_of(models_dir, "cnclip-vit"));
  Model dino(bundle_of(models_dir, "dinov2-cls"));
  Model dino2(bundle_of(models_dir, "dinov2-mean_patch"));
  TempDir tmp("ingest-spaces");
  const std::string photos = tmp / "photos";
  fs::create_directories(photos);
  std::vector<std::string> files;
  for (int i = 0; i < 7; ++i) {  // not square: squash and centre crop see different pixels
    files.push_back(fs::absolute(photos + "/p" + std::to_string(i) + ".ppm").lexically_normal().string());
    write_ppm(files.back(), 60 + 17 * i, 40 + 9 * (6 - i), i);
  }

  cbir_collection_options_t o;
  cbir_collection_options_init(&o);
  o.flags = CBIR_OPEN_CREATE;
  o.dim = clip.info.dim;
  o.fingerprint = clip.info.fingerprint;
  o.index_spec = "flat";
  o.space = "clip";
  cbir_collection_t* coll = nullptr;
  REQUIRE(cbir_collection_open(&coll, (tmp / "c").c_str(), &o) == CBIR_OK);
  REQUIRE(cbir_collection_add_space(coll, "dino", dino.info.dim, dino.info.fingerprint, "flat") == CBIR_OK);

  // Refusals: a model for another space, a space twice, the first space not first.
  ingest(coll, {{nullptr, clip.raw}, {"dino", dino2.raw}}, photos, CBIR_EMISMATCH);
  ingest(coll, {{nullptr, clip.raw}, {"dino", dino.raw}, {"dino", dino.raw}}, photos, CBIR_EINVAL);
  ingest(coll, {{"dino", dino.raw}}, photos, CBIR_EINVAL);
  ingest(coll, {{nullptr, clip.raw}, {"nope", dino.raw}}, photos, CBIR_ENOTFOUND);
  CHECK(counts(coll) == std::vector<uint64_t>{0, 0});

  const std::vector<cbir_space_model_t> both{{nullptr, clip.raw}, {"dino", dino.raw}};
  cbir_ingest_summary_t s = ingest(coll, both, photos);
  CHECK(s.added == 7);
  CHECK(s.failed == 0);
  CHECK(counts(coll) == std::vector<uint64_t>{7, 7});
  for (const std::string& f : files) {
    int64_t id = -1;
    REQUIRE(cbir_collection_find(&id, coll, f.c_str()) == CBIR_OK);
    std::vector<float> c(static_cast<size_t>(clip.info.dim)), d(static_cast<size_t>(dino.info.dim));
    REQUIRE(cbir_collection_get_space_vector(c.data(), c.size(), coll, "clip", id) == CBIR_OK);
    REQUIRE(cbir_collection_get_space_vector(d.data(), d.size(), coll, "dino", id) == CBIR_OK);
    CHECK(cosine(c, clip.embed(f)) > 0.9999f);
    CHECK(cosine(d, dino.embed(f)) > 0.9999f);
    // Each space finds the file itself first from that model's embedding.
    cbir_search_options_t so;
    cbir_search_options_init(&so);
    so.space = "dino";
    int64_t top = -1;
    float score = 0;
    const auto q = dino.embed(f);
    REQUIRE(cbir_collection_search(&top, &score, coll, q.data(), 1, q.size(), 1, &so) == CBIR_OK);
    CHECK(top == id);
  }

  // Unchanged: nothing read. A touched file (same content) keeps its vectors in both spaces.
  s = ingest(coll, both, photos);
  CHECK(s.unchanged == 7);
  CHECK(s.filled == 0);
  fs::last_write_time(files[2], fs::last_write_time(files[2]) + std::chrono::seconds(5));
  fs::copy_file(files[3], photos + "/copy_of_p3.ppm");
  s = ingest(coll, both, photos);
  CHECK(s.unchanged == 7);  // six untouched, one touched with the same content
  CHECK(s.duplicates == 1);
  CHECK(s.added == 0);
  CHECK(counts(coll) == std::vector<uint64_t>{8, 8});

  // A space added later: the next run encodes only the spaces items lack.
  REQUIRE(cbir_collection_add_space(coll, "patch", dino2.info.dim, dino2.info.fingerprint, "flat") == CBIR_OK);
  const std::vector<cbir_space_model_t> three{{nullptr, clip.raw}, {"dino", dino.raw}, {"patch", dino2.raw}};
  s = ingest(coll, three, photos);
  CHECK(s.filled == 8);
  CHECK(s.added == 0);
  CHECK(s.unchanged == 0);
  CHECK(counts(coll) == std::vector<uint64_t>{8, 8, 8});
  int64_t id = -1;
  REQUIRE(cbir_collection_find(&id, coll, files[5].c_str()) == CBIR_OK);
  std::vector<float> p(static_cast<size_t>(dino2.info.dim));
  REQUIRE(cbir_collection_get_space_vector(p.data(), p.size(), coll, "patch", id) == CBIR_OK);
  CHECK(cosine(p, dino2.embed(files[5])) > 0.9999f);
  s = ingest(coll, three, photos);
  CHECK(s.unchanged == 8);
  CHECK(s.filled == 0);

  // Indexing with the first model alone: items written again leave the other spaces (their
  // vectors were of the old content); unchanged ones keep theirs.
  write_ppm(files[0], 50, 50, 99);
  fs::last_write_time(files[0], fs::last_write_time(files[0]) + std::chrono::seconds(9));
  s = ingest(coll, {{nullptr, clip.raw}}, photos);
  CHECK(s.updated == 1);
  CHECK(counts(coll) == std::vector<uint64_t>{8, 7, 7});
  s = ingest(coll, three, photos);
  CHECK(s.filled == 1);
  CHECK(counts(coll) == std::vector<uint64_t>{8, 8, 8});
  REQUIRE(cbir_collection_verify(coll) == CBIR_OK);
  cbir_collection_close(coll);
}
