// Every tiny bundle that tools/export/make_test_models.py writes (each family, pooling and
// precision), loaded in C++, agrees with the Python eager model on the same inputs: golden
// images as Pillow preprocessed them and golden texts (reference.json beside each bundle).
#include <catch2/catch.hpp>

#include <ATen/Context.h>

#include <cstdio>
#include <map>

#include "common/error.hpp"
#include "image/image.hpp"
#include "model/model.hpp"
#include "model/torchscript.hpp"
#include "test_model_util.hpp"

using namespace cbir::model;
using cbir_test::json;

namespace {

struct Case {
  std::string dir;
  json ref;
};

std::vector<Case> cases(const std::string& root) {
  std::vector<Case> out;
  const json bundles = cbir_test::test_bundles(root);
  const bool on_cuda = cbir_test::test_device().rfind("cuda", 0) == 0;
  for (const json& b : bundles) {
    if (b["precision"] == "fp16" && !on_cuda) continue;  // --half bundles (CUDA only)
    const std::string dir = root + "/" + b["dir"].get<std::string>();
    out.push_back({dir, cbir_test::read_json(dir + "/reference.json")});
  }
  REQUIRE(out.size() >= 9);  // CLIP ViT, CLIP RN, CLIP int8, DINOv2 (+registers) x 3 poolings
  return out;
}

// On cbir_test::test_device() ($CBIR_TEST_DEVICE, else the CPU).
ModelOptions with_batch(int batch, const std::string& bundle_dir) {
  ModelOptions o;
  o.device = cbir_test::test_device_of(bundle_dir);
  o.batch_size = batch;
  return o;
}

// The reference's images, normalised by lib/image from the very pixels Python used.
std::vector<float> reference_pixels(const Model& m, const json& ref) {
  const cbir::image::Recipe& recipe = m.recipe();
  const size_t per = 3 * size_t(m.image_side()) * m.image_side();
  std::vector<float> pixels(ref["images"].size() * per);
  size_t i = 0;
  for (const json& img : ref["images"]) {
    cbir::image::Image rgb;
    rgb.width = img["width"];
    rgb.height = img["height"];
    const std::string bytes = cbir_test::read_file(img["rgb"]);
    REQUIRE(bytes.size() == size_t(rgb.width) * rgb.height * 3);
    rgb.rgb.assign(bytes.begin(), bytes.end());
    REQUIRE(rgb.width == m.image_side());
    cbir::image::normalize_chw(rgb, recipe, pixels.data() + i++ * per);
  }
  return pixels;
}

std::vector<std::string> reference_texts(const json& ref) {
  std::vector<std::string> out;
  for (const json& t : ref["texts"]) out.push_back(t["text"]);
  return out;
}

std::vector<float> embed_texts(const Model& m, const std::vector<std::string>& texts) {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> out(texts.size() * m.dim());
  m.embed_texts(views, out.data());
  return out;
}

// Row-by-row cosine of two [n, dim] sets, all at least `min`.
void check_rows(const std::vector<float>& a, const std::vector<float>& b, size_t dim, double min,
                const char* what) {
  REQUIRE(a.size() == b.size());
  double worst = 1;
  for (size_t r = 0; r < a.size() / dim; ++r)
    worst = std::min(worst, cbir_test::cosine(a.data() + r * dim, b.data() + r * dim, dim));
  INFO(what << ": lowest cosine " << worst << ", required " << min);
  CHECK(worst >= min);
}

std::vector<float> reference_rows(const json& items) {
  std::vector<float> out;
  for (const json& it : items)
    for (float v : it["embedding"]) out.push_back(v);
  return out;
}

}  // namespace

TEST_CASE("C++ embeddings agree with the Python eager model for every test bundle") {
  CBIR_REQUIRE_TEST_MODELS(root);
  for (const Case& c : cases(root)) {
    INFO("bundle " << c.dir);
    const double min = c.ref["min_cosine"];
    auto m = Model::open(c.dir, with_batch(8, c.dir));
    CHECK(m->bundle().fingerprint == c.ref["fingerprint"]);
    const size_t dim = m->dim();

    const std::vector<float> pixels = reference_pixels(*m, c.ref);
    const size_t n = c.ref["images"].size();
    std::vector<float> images(n * dim);
    m->embed_images(pixels.data(), n, images.data());
    check_rows(images, reference_rows(c.ref["images"]), dim, min, "images vs Python");

    if (!c.ref.contains("texts")) {
      CHECK_FALSE(m->has_text());
      continue;
    }
    const auto texts = reference_texts(c.ref);
    check_rows(embed_texts(*m, texts), reference_rows(c.ref["texts"]), dim, min, "texts vs Python");

    // The bundle's own vocabulary gives Python's ids, and padded ids (52 wide, as Python ran
    // them) agree with the trimmed ones embed_texts uses.
    const int ctx = m->context_length();
    std::vector<int64_t> padded;
    for (const json& t : c.ref["texts"]) {
      std::vector<int64_t> ids(ctx);
      std::string_view text = t["text"].get_ref<const std::string&>();
      m->tokenizer().encode({text}, ctx, ids.data(), nullptr);
      CHECK(ids == t["ids"].get<std::vector<int64_t>>());
      padded.insert(padded.end(), ids.begin(), ids.end());
    }
    std::vector<float> from_padded(texts.size() * dim);
    m->embed_token_ids(padded.data(), texts.size(), ctx, from_padded.data());
    check_rows(from_padded, embed_texts(*m, texts), dim, min, "padded vs trimmed");
  }
}

TEST_CASE("batch sizes 1, 3 and 8 give the same embeddings") {
  CBIR_REQUIRE_TEST_MODELS(root);
  for (const Case& c : cases(root)) {
    INFO("bundle " << c.dir);
    const double min = c.ref["min_cosine"];
    std::map<int, std::vector<float>> images, texts;
    for (int batch : {1, 3, 8}) {
      auto m = Model::open(c.dir, with_batch(batch, c.dir));
      CHECK(m->batch_size() == batch);
      const std::vector<float> pixels = reference_pixels(*m, c.ref);
      images[batch].resize(c.ref["images"].size() * m->dim());
      m->embed_images(pixels.data(), c.ref["images"].size(), images[batch].data());
      if (m->has_text()) texts[batch] = embed_texts(*m, reference_texts(c.ref));
    }
    const size_t dim = c.ref["images"][0]["embedding"].size();
    for (int batch : {3, 8}) {
      INFO("batch " << batch << " vs 1");
      check_rows(images[batch], images[1], dim, min, "images");
      if (!texts.empty()) check_rows(texts[batch], texts[1], dim, min, "texts");
    }
  }
}

TEST_CASE("int8 bundles agree with their fp32 original at cosine 0.99") {
  CBIR_REQUIRE_TEST_MODELS(root);
  std::map<std::string, std::string> fp32;  // checkpoint -> fp32 bundle dir
  std::vector<json> int8;
  const json bundles = cbir_test::test_bundles(root);
  for (const json& b : bundles) {
    if (b["precision"] == "fp32" && b["family"] == "chinese-clip") fp32[b["checkpoint"]] = b["dir"];
    if (b["precision"] == "int8") int8.push_back(b);
  }
  REQUIRE_FALSE(int8.empty());
  for (const json& b : int8) {
    INFO("bundle " << b["dir"]);
    REQUIRE(fp32.count(b["checkpoint"]));
    const std::string q_dir = root + "/" + b["dir"].get<std::string>();
    const std::string f_dir = root + "/" + fp32[b["checkpoint"]];
    auto q = Model::open(q_dir, with_batch(8, q_dir));
    auto f = Model::open(f_dir, with_batch(8, f_dir));
    CHECK(q->bundle().precision == "int8");
    const json ref = cbir_test::read_json(q->bundle().dir + "/reference.json");
    const std::vector<float> pixels = reference_pixels(*q, ref);
    const size_t n = ref["images"].size(), dim = q->dim();
    std::vector<float> a(n * dim), b2(n * dim);
    q->embed_images(pixels.data(), n, a.data());
    f->embed_images(pixels.data(), n, b2.data());
    check_rows(a, b2, dim, 0.99, "int8 vs fp32 images");
    const auto texts = reference_texts(ref);
    check_rows(embed_texts(*q, texts), embed_texts(*f, texts), dim, 0.99, "int8 vs fp32 texts");
  }
}

// oneDNN re-plans its int8 kernels for every new row count, so int8 texts run padded to the
// context length there (and trimmed elsewhere, as fp32 texts always are).
TEST_CASE("int8 texts run at the full context length where LibTorch's int8 engine is oneDNN") {
  CBIR_REQUIRE_TEST_MODELS(root);
  const bool onednn = at::globalContext().qEngine() == at::kONEDNN;
  for (const json& b : cbir_test::test_bundles(root)) {
    if (b["family"] != "chinese-clip") continue;
    INFO("bundle " << b["dir"] << ", int8 engine oneDNN: " << onednn);
    const std::string dir = root + "/" + b["dir"].get<std::string>();
    auto m = Model::open(dir, with_batch(8, dir));
    const int ctx = m->context_length();
    const std::string text = "a red circle";
    std::vector<int64_t> ids(ctx);
    int32_t len = 0;
    m->tokenizer().encode({text}, ctx, ids.data(), &len);
    REQUIRE(len < ctx);
    const size_t dim = m->dim();
    std::vector<float> full(dim), trimmed(dim);
    m->embed_token_ids(ids.data(), 1, ctx, full.data());
    m->embed_token_ids(ids.data(), 1, len, trimmed.data());
    const std::vector<float> got = embed_texts(*m, {text});
    const bool padded = b["precision"] == "int8" && onednn;
    if (b["precision"] == "int8") REQUIRE(full != trimmed);  // so the two paths can be told apart
    CHECK(got == (padded ? full : trimmed));
  }
}

// The CUDA path (run by tools/gpu/check.sh on a GPU machine; skipped elsewhere): every fp32
// bundle on cuda:0 in fp32, fp16 and bf16 against the same bundle on the CPU, images and texts.
// fp32 must agree as closely as the CPU agrees with Python; half precisions round every
// activation to 8 (bf16) or 11 (fp16) significant bits, so they are held to 0.99.
TEST_CASE("on CUDA, fp32, fp16 and bf16 agree with the CPU in fp32") {
  CBIR_REQUIRE_TEST_MODELS(root);
  if (!cuda_available()) {
    WARN("SKIPPED: no CUDA device (a CPU-only LibTorch, or none visible)");
    return;
  }
  const struct {
    Precision precision;
    const char* name;
    double min;
  } runs[] = {{Precision::fp32, "fp32", 0.9999}, {Precision::fp16, "fp16", 0.99},
              {Precision::bf16, "bf16", 0.99}};
  for (const Case& c : cases(root)) {
    if (c.ref["precision"] != "fp32") continue;
    INFO("bundle " << c.dir);
    ModelOptions o;
    o.device = "cpu";
    auto cpu = Model::open(c.dir, o);
    const size_t n = c.ref["images"].size(), dim = cpu->dim();
    const std::vector<float> pixels = reference_pixels(*cpu, c.ref);
    std::vector<float> want(n * dim);
    cpu->embed_images(pixels.data(), n, want.data());
    std::vector<float> want_texts;
    if (cpu->has_text()) want_texts = embed_texts(*cpu, reference_texts(c.ref));
    for (const auto& run : runs) {
      INFO(run.name);
      o.device = "cuda:0";
      o.precision = run.precision;
      auto gpu = Model::open(c.dir, o);
      CHECK(gpu->device().str() == "cuda:0");
      std::vector<float> got(n * dim);
      gpu->embed_images(pixels.data(), n, got.data());
      double worst = 1;
      for (size_t r = 0; r < n; ++r)
        worst = std::min(worst, cbir_test::cosine(got.data() + r * dim, want.data() + r * dim, dim));
      if (cpu->has_text()) {
        const std::vector<float> texts = embed_texts(*gpu, reference_texts(c.ref));
        for (size_t r = 0; r < texts.size() / dim; ++r)
          worst = std::min(worst, cbir_test::cosine(texts.data() + r * dim,
                                                    want_texts.data() + r * dim, dim));
      }
      std::printf("cuda %s %s: lowest cosine vs CPU fp32 %.6f\n", run.name,
                  c.ref["bundle"].get<std::string>().c_str(), worst);
      CHECK(worst >= run.min);
    }
  }
}

TEST_CASE("on CUDA, auto picks cuda:0 and an absent device is refused by name") {
  CBIR_REQUIRE_TEST_MODELS(root);
  if (!cuda_available()) {
    WARN("SKIPPED: no CUDA device (a CPU-only LibTorch, or none visible)");
    return;
  }
  const std::string dir = cases(root).front().dir;
  ModelOptions o;
  o.device = "auto";
  CHECK(Model::open(dir, o)->device().str() == "cuda:0");
  o.device = "cuda:7";
  try {
    Model::open(dir, o);
    FAIL("cuda:7 opened");
  } catch (const cbir::Error& e) {
    CHECK(e.code() == CBIR_EUNSUPPORTED);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("device cuda:7: only"));
  }
}
