// Composite queries (cbir_query_compose): the vector equals the weighted sum of the parts'
// normalised vectors, normalised, computed here from each part embedded on its own; and every
// bad part is refused naming it. Uses the shipped tiny model.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "capi_model.hpp"
#include "test_store_util.hpp"

using namespace cbir_test;
using namespace store_test;

namespace {

const std::string kShipped = CBIR_SOURCE_DIR "/models/tiny-bilingual";

ModelPtr shipped() {
  cbir_model_t* m = nullptr;
  cbir_model_options_t o = CBIR_MODEL_OPTIONS_INIT;
  o.precision = CBIR_PRECISION_FP32;
  REQUIRE(cbir_model_open(&m, kShipped.c_str(), &o) == CBIR_OK);
  return ModelPtr(m);
}

std::vector<float> normalized(std::vector<float> v) {
  double n = 0;
  for (float x : v) n += double(x) * x;
  for (float& x : v) x = float(x / std::sqrt(n));
  return v;
}

// A 32x24 PPM of one colour: a valid image file and buffer, written here.
std::string ppm(int r, int g, int b) {
  std::string s = "P6\n32 24\n255\n";
  for (int i = 0; i < 32 * 24; ++i) s += {char(r), char(g), char(b)};
  return s;
}

cbir_query_part_t part(int32_t kind, float weight) {
  cbir_query_part_t p{};
  p.kind = kind;
  p.weight = weight;
  return p;
}

}  // namespace

TEST_CASE("a composite query is the normalised weighted sum of its parts") {
  ModelPtr m = shipped();
  const size_t dim = size_t(info_of(m.get()).dim);
  TempDir dir;
  const std::string red = ppm(220, 20, 20), blue = ppm(20, 20, 220);
  const std::string red_path = dir.sub("red.ppm");
  std::ofstream(red_path, std::ios::binary) << red;

  // Each part alone.
  auto text = [&](const char* t) {
    std::vector<float> v(dim);
    REQUIRE(cbir_model_embed_texts(v.data(), m.get(), &t, 1) == CBIR_OK);
    return v;
  };
  std::vector<float> v_red_img(dim), v_blue_img(dim);
  const char* p = red_path.c_str();
  int32_t st = 0;
  REQUIRE(cbir_model_embed_image_files(v_red_img.data(), &st, m.get(), &p, 1) == CBIR_OK);
  const void* data = blue.data();
  const size_t size = blue.size();
  REQUIRE(cbir_model_embed_image_buffers(v_blue_img.data(), &st, m.get(), &data, &size, 1) == CBIR_OK);
  const auto v_dog = text("a red circle"), v_beach = text("蓝色的三角形"), v_people = text("a green square");
  std::vector<float> raw(dim);
  for (size_t d = 0; d < dim; ++d) raw[d] = float(d % 7) - 3.0f;  // any length

  // An item of a collection: its stored vector.
  auto coll = create(dir.sub("c"), int32_t(dim));
  int64_t item = -1;
  auto items = items_for({"/x"});
  ok(cbir_collection_add(&item, coll.get(), items.data(), v_people.data(), 1, dim));

  std::vector<cbir_query_part_t> parts = {
      part(CBIR_PART_TEXT, 1), part(CBIR_PART_TEXT, 1), part(CBIR_PART_TEXT, -1),
      part(CBIR_PART_IMAGE_FILE, 0.5f), part(CBIR_PART_IMAGE_BUFFER, -0.25f),
      part(CBIR_PART_VECTOR, 0.75f), part(CBIR_PART_ITEM, 2), part(CBIR_PART_TEXT, 0)};
  parts[0].text = "a red circle";
  parts[1].text = "蓝色的三角形";
  parts[2].text = "a green square";
  parts[3].text = red_path.c_str();
  parts[4].data = blue.data();
  parts[4].size = blue.size();
  parts[5].vector = raw.data();
  parts[6].id = item;
  parts[7].text = "weight 0: left out";

  std::vector<double> want(dim, 0.0);
  const std::vector<std::pair<std::vector<float>, float>> ref = {
      {v_dog, 1}, {v_beach, 1}, {v_people, -1}, {v_red_img, 0.5f}, {v_blue_img, -0.25f},
      {raw, 0.75f}, {v_people, 2}};
  for (const auto& [v, w] : ref) {
    const auto u = normalized(v);
    for (size_t d = 0; d < dim; ++d) want[d] += double(w) * u[d];
  }
  double n = 0;
  for (double x : want) n += x * x;
  std::vector<float> got(dim);
  ok(cbir_query_compose(got.data(), dim, m.get(), coll.get(), parts.data(), parts.size()));
  double got_norm = 0;
  for (size_t d = 0; d < dim; ++d) {
    CHECK(got[d] == Approx(want[d] / std::sqrt(n)).margin(1e-5));
    got_norm += double(got[d]) * got[d];
  }
  CHECK(got_norm == Approx(1.0).epsilon(1e-5));

  // One text part alone is that text's vector.
  std::vector<float> one(dim);
  ok(cbir_query_compose(one.data(), dim, m.get(), nullptr, parts.data(), 1));
  const auto u = normalized(v_dog);
  for (size_t d = 0; d < dim; ++d) CHECK(one[d] == Approx(u[d]).margin(1e-6));
}

TEST_CASE("composite queries refuse bad parts, naming them") {
  ModelPtr m = shipped();
  const size_t dim = size_t(info_of(m.get()).dim);
  std::vector<float> out(dim);
  auto refused = [&](std::vector<cbir_query_part_t> parts, int code, const std::string& says,
                     const cbir_model_t* model, const cbir_collection_t* coll = nullptr) {
    INFO(says);
    CHECK(cbir_query_compose(out.data(), dim, model, coll, parts.data(), parts.size()) == code);
    CHECK(std::string(cbir_last_error()).find(says) != std::string::npos);
  };
  cbir_query_part_t t = part(CBIR_PART_TEXT, 1);
  t.text = "a dog";
  refused({t, t}, CBIR_EINVAL, "part 0 needs a model", nullptr);
  cbir_query_part_t minus = t;
  minus.weight = -1;
  refused({t, minus}, CBIR_EINVAL, "cancel out", m.get());
  cbir_query_part_t bad_kind = part(42, 1);
  refused({t, bad_kind}, CBIR_EINVAL, "part 1: unknown kind 42", m.get());
  cbir_query_part_t nan = t;
  nan.weight = NAN;
  refused({nan}, CBIR_EINVAL, "part 0: the weight must be finite", m.get());
  cbir_query_part_t zero = part(CBIR_PART_VECTOR, 1);
  std::vector<float> zeros(dim, 0.f);
  zero.vector = zeros.data();
  refused({zero}, CBIR_EINVAL, "part 0: its vector is all zeros", nullptr);
  cbir_query_part_t item = part(CBIR_PART_ITEM, 1);
  refused({item}, CBIR_EINVAL, "needs the collection", nullptr);
  cbir_query_part_t file = part(CBIR_PART_IMAGE_FILE, 1);
  file.text = "/nonexistent/cat.jpg";
  refused({t, file}, CBIR_ENOTFOUND, "part 1", m.get());
  cbir_query_part_t junk = part(CBIR_PART_IMAGE_BUFFER, 1);
  junk.data = "not an image";
  junk.size = 12;
  refused({junk}, CBIR_EIMAGE_FORMAT, "part 0", m.get());
  cbir_query_part_t invalid = t;
  invalid.text = "\xff\xfe";
  refused({invalid}, CBIR_EINVAL, "part 0", m.get());
  refused({}, CBIR_EINVAL, "at least one part", m.get());
  refused({part(CBIR_PART_TEXT, 0)}, CBIR_EINVAL, "every part has weight 0", m.get());
  CHECK(cbir_query_compose(out.data(), dim + 1, m.get(), nullptr, &t, 1) == CBIR_EMISMATCH);
  CHECK(cbir_query_compose(nullptr, dim, m.get(), nullptr, &t, 1) == CBIR_EINVAL);
  CHECK(cbir_query_compose(out.data(), dim, m.get(), nullptr, nullptr, 1) == CBIR_EINVAL);
}
