// The model C API over the tiny test bundles: open/info/close, texts, images from files,
// buffers, pixels and tensors with a status per item, zero-shot classification, concurrency.
#include <catch2/catch.hpp>
#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "capi_model.hpp"
#include "cbir.h"
#include "own_malloc.hpp"
#include "golden.hpp"
#include "test_model_util.hpp"

using cbir_test::json;
using Catch::Matchers::Contains;

namespace {

using cbir_test::info_of;
using cbir_test::ModelPtr;

ModelPtr open_model(const std::string& dir, int32_t batch = 0) {
  cbir_model_options_t o = CBIR_MODEL_OPTIONS_INIT;
  const std::string device = cbir_test::test_device_of(dir);
  o.device = device.c_str();
  o.batch_size = batch;
  cbir_model_t* m = nullptr;
  INFO(cbir_last_error());
  REQUIRE(cbir_model_open(&m, dir.c_str(), &o) == CBIR_OK);
  return ModelPtr(m);
}

// The first bundle of `family` (and `pooling`, for DINOv2) that make_test_models wrote.
std::string bundle_dir(const std::string& root, const std::string& family,
                       const std::string& precision = "fp32") {
  const json bundles = cbir_test::test_bundles(root);
  for (const json& b : bundles)
    if (b["family"] == family && b["precision"] == precision) return root + "/" + b["dir"].get<std::string>();
  FAIL("no " << family << " " << precision << " bundle in " << root);
  return "";
}

std::vector<uint8_t> rgb_of(const json& image) {
  std::string bytes = cbir_test::read_file(image["rgb"]);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

}  // namespace

TEST_CASE("cbir_model_open checks its arguments and options") {
  cbir_model_t* m = reinterpret_cast<cbir_model_t*>(0x1);
  CHECK(cbir_model_open(&m, nullptr, nullptr) == CBIR_EINVAL);
  CHECK(m == nullptr);
  CHECK_THAT(cbir_last_error(), Contains("path must not be NULL"));
  CHECK(cbir_model_open(nullptr, "x", nullptr) == CBIR_EINVAL);

  cbir_model_options_t o;
  cbir_model_options_init(&o);
  CHECK(o.version == sizeof o);
  CHECK(o.verify_hashes == 1);
  o.precision = 7;
  CHECK(cbir_model_open(&m, "/nonexistent", &o) == CBIR_EINVAL);
  CHECK_THAT(cbir_last_error(), Contains("precision 7"));
  o.version = 3;
  CHECK(cbir_model_open(&m, "/nonexistent", &o) == CBIR_EINVAL);
  CHECK(cbir_model_open(&m, "/nonexistent", nullptr) == CBIR_ENOTFOUND);
  CHECK_THAT(cbir_last_error(), Contains("/nonexistent: no such model bundle folder"));
  CHECK(m == nullptr);
  cbir_model_close(nullptr);
}

#if defined(__GLIBC__) && !defined(CBIR_TEST_OWN_MALLOC)
// Nothing in this program calls cbir_set_malloc_reuse: opening a CPU model turns it on.
TEST_CASE("opening a CPU model makes malloc keep large blocks (cbir_set_malloc_reuse)") {
  CBIR_REQUIRE_TEST_MODELS(root);
  const std::string dir = bundle_dir(root, "chinese-clip");
  if (cbir_test::test_device_of(dir) != "cpu") return;  // the check is for CPU models
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("GLIBC_TUNABLES")) {
    WARN("SKIPPED: the environment sets glibc's malloc, and cbir leaves it alone");
    return;
  }
  ModelPtr model = open_model(dir);
  const size_t mapped = mallinfo2().hblkhd, size = 20u << 20;
  void* p = std::malloc(size);
  REQUIRE(p != nullptr);
  for (size_t i = 0; i < size; i += 4096) static_cast<volatile char*>(p)[i] = 1;
  CHECK(mallinfo2().hblkhd == mapped);  // glibc alone maps a fresh 20 MiB block
  std::free(p);
}
#endif

TEST_CASE("threads: a CPU model gives the count to OpenBLAS (fp32) or to OpenMP (int8), 1 to the other") {
  CBIR_REQUIRE_TEST_MODELS(root);
  using Get = int (*)();
  const auto blas = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  const auto omp = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  if (blas == nullptr || omp == nullptr) {
    WARN("SKIPPED: the BLAS linked here is not OpenBLAS, or there is no OpenMP");
    return;
  }
  for (const char* precision : {"fp32", "int8"}) {
    const std::string dir = bundle_dir(root, "chinese-clip", precision);
    if (cbir_test::test_device_of(dir) != "cpu") continue;
    INFO(precision);
    REQUIRE(cbir_set_threads(1) == CBIR_OK);
    cbir_model_options_t o = CBIR_MODEL_OPTIONS_INIT;
    o.device = "cpu";
    o.threads = 3;
    cbir_model_t* m = nullptr;
    REQUIRE(cbir_model_open(&m, dir.c_str(), &o) == CBIR_OK);
    ModelPtr model(m);
    const bool fp32 = std::string(precision) == "fp32";
    CHECK(blas() == (fp32 ? 3 : 1));
    CHECK(omp() == (fp32 ? 1 : 3));
  }
  REQUIRE(cbir_set_threads(0) == CBIR_OK);
}

TEST_CASE("towers: load one tower only; the other is neither loaded nor hashed") {
  CBIR_REQUIRE_TEST_MODELS(root);
  const std::string clip_dir = bundle_dir(root, "chinese-clip");
  const json bundle = cbir_test::read_json(clip_dir + "/bundle.json");
  // A copy whose text tower is damaged in place (same size: only its hash tells).
  cbir_test::TempDir copy("towers");
  for (const auto& entry : std::filesystem::directory_iterator(clip_dir))
    std::filesystem::copy(entry.path(), copy / entry.path().filename().string());
  const std::string text_file = copy / bundle["text"]["file"].get<std::string>();
  {
    std::fstream f(text_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  cbir_model_options_t o = CBIR_MODEL_OPTIONS_INIT;
  o.device = "cpu";
  cbir_model_t* m = nullptr;
  CHECK(cbir_model_open(&m, copy.str().c_str(), &o) == CBIR_ECORRUPT);
  CHECK_THAT(cbir_last_error(), Contains("text.pt"));

  o.towers = CBIR_TOWER_IMAGE;
  INFO(cbir_last_error());
  REQUIRE(cbir_model_open(&m, copy.str().c_str(), &o) == CBIR_OK);
  ModelPtr image_only(m);
  const cbir_model_info_t info = info_of(image_only.get());
  CHECK(info.has_image == 1);
  CHECK(info.has_text == 0);
  CHECK(info.fingerprint == bundle["fingerprint"].get<std::string>());  // same model, same collections
  std::vector<float> out(static_cast<size_t>(info.dim));
  const char* text = "a red circle";
  CHECK(cbir_model_embed_texts(out.data(), image_only.get(), &text, 1) == CBIR_EUNSUPPORTED);
  CHECK_THAT(cbir_last_error(), Contains("CBIR_TOWER_IMAGE"));

  o.towers = CBIR_TOWER_TEXT;
  REQUIRE(cbir_model_open(&m, clip_dir.c_str(), &o) == CBIR_OK);
  ModelPtr text_only(m);
  CHECK(info_of(text_only.get()).has_image == 0);
  CHECK(cbir_model_embed_texts(out.data(), text_only.get(), &text, 1) == CBIR_OK);

  const std::string dino_dir = bundle_dir(root, "dinov2");
  CHECK(cbir_model_open(&m, dino_dir.c_str(), &o) == CBIR_EUNSUPPORTED);
  CHECK_THAT(cbir_last_error(), Contains("no text tower"));
  o.towers = 4;
  CHECK(cbir_model_open(&m, clip_dir.c_str(), &o) == CBIR_EINVAL);
  CHECK_THAT(cbir_last_error(), Contains("CBIR_TOWER_IMAGE"));
}

TEST_CASE("cbir_model_info describes CLIP and DINOv2 bundles") {
  CBIR_REQUIRE_TEST_MODELS(root);
  const std::string clip_dir = bundle_dir(root, "chinese-clip");
  ModelPtr clip = open_model(clip_dir, 3);
  const cbir_model_info_t c = info_of(clip.get());
  const json bundle = cbir_test::read_json(clip_dir + "/bundle.json");
  CHECK(c.name == bundle["name"].get<std::string>());
  CHECK(std::string(c.family) == "chinese-clip");
  CHECK(c.fingerprint == bundle["fingerprint"].get<std::string>());
  CHECK(std::string(c.precision) == "fp32");
  CHECK(c.device == cbir_test::test_device());
  CHECK(c.path == clip_dir);
  CHECK(c.dim == bundle["embed_dim"].get<int>());
  CHECK((c.has_image == 1 && c.has_text == 1));
  CHECK(c.context_length == 52);
  CHECK(c.logit_scale == Approx(100.0));
  CHECK(c.batch_size == 3);
  CHECK(c.resize == CBIR_RESIZE_SQUASH);
  CHECK((c.image_size == 224 && c.input_side == 224));
  CHECK(c.interpolation == CBIR_INTERPOLATION_BICUBIC);
  CHECK(c.mean[0] == Approx(0.48145466));
  CHECK(c.std[2] == Approx(0.27577711));
  CHECK(std::string(c.pooling).empty());
  CHECK(c.resize_before_rgb == 1);  // exported for Chinese-CLIP's own order

  ModelPtr dino = open_model(bundle_dir(root, "dinov2"));
  const cbir_model_info_t d = info_of(dino.get());
  CHECK(std::string(d.family) == "dinov2");
  CHECK((d.has_image == 1 && d.has_text == 0 && d.context_length == 0));
  CHECK(d.logit_scale == 0.0f);
  CHECK(d.resize == CBIR_RESIZE_SHORTER_SIDE_THEN_CENTER_CROP);
  CHECK((d.image_size == 256 && d.image_crop == 224 && d.input_side == 224));
  CHECK(d.mean[0] == Approx(0.485));
  CHECK(std::string(d.pooling) != "");
  CHECK(d.resize_before_rgb == 0);

  // A caller compiled against a shorter struct gets only its fields written.
  cbir_model_info_t old;
  std::memset(&old, 0xAB, sizeof old);
  old.version = offsetof(cbir_model_info_t, dim);
  REQUIRE(cbir_model_info(&old, clip.get()) == CBIR_OK);
  CHECK(std::string(old.path) == clip_dir);
  int32_t untouched;
  std::memset(&untouched, 0xAB, sizeof untouched);
  CHECK(old.dim == untouched);
  old.version = sizeof(cbir_model_info_t) + 8;
  CHECK(cbir_model_info(&old, clip.get()) == CBIR_EINVAL);
  CHECK(cbir_model_info(&old, nullptr) == CBIR_EINVAL);
}

TEST_CASE("cbir_model_embed_texts: rows match the reference; bad input names the text") {
  CBIR_REQUIRE_TEST_MODELS(root);
  const std::string dir = bundle_dir(root, "chinese-clip");
  const json ref = cbir_test::read_json(dir + "/reference.json");
  ModelPtr m = open_model(dir);
  const size_t dim = info_of(m.get()).dim;
  std::vector<const char*> texts;
  for (const json& t : ref["texts"]) texts.push_back(t["text"].get_ref<const std::string&>().c_str());
  std::vector<float> out(texts.size() * dim);
  REQUIRE(cbir_model_embed_texts(out.data(), m.get(), texts.data(), texts.size()) == CBIR_OK);
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto expect = cbir_test::floats(ref["texts"][i]["embedding"]);
    CHECK(cbir_test::cosine(out.data() + i * dim, expect.data(), dim) >= 0.9999);
  }
  CHECK(cbir_model_embed_texts(nullptr, m.get(), nullptr, 0) == CBIR_OK);

  const char* with_null[] = {"a", nullptr};
  CHECK(cbir_model_embed_texts(out.data(), m.get(), with_null, 2) == CBIR_EINVAL);
  CHECK_THAT(cbir_last_error(), Contains("texts[1] is NULL"));
  const char* bad_utf8[] = {"fine", "ok", "caf\xc3", "x"};
  CHECK(cbir_model_embed_texts(out.data(), m.get(), bad_utf8, 4) == CBIR_EINVAL);
  CHECK_THAT(cbir_last_error(), Contains("text 2"));
  CHECK(cbir_model_embed_texts(nullptr, m.get(), texts.data(), 1) == CBIR_EINVAL);

  ModelPtr dino = open_model(bundle_dir(root, "dinov2"));
  CHECK(cbir_model_embed_texts(out.data(), dino.get(), texts.data(), 1) == CBIR_EUNSUPPORTED);
  CHECK_THAT(cbir_last_error(), Contains("has no text tower"));
}

TEST_CASE("cbir_model_tokenizer hands out the bundle's tokenizer") {
  CBIR_REQUIRE_TEST_MODELS(root);
  const std::string dir = bundle_dir(root, "chinese-clip");
  const json ref = cbir_test::read_json(dir + "/reference.json");
  ModelPtr m = open_model(dir);
  const cbir_tokenizer_t* tok = nullptr;
  REQUIRE(cbir_model_tokenizer(&tok, m.get()) == CBIR_OK);
  REQUIRE(tok != nullptr);
  const std::string vocab = cbir_test::read_file(dir + "/vocab.txt");
  CHECK(cbir_tokenizer_vocab_size(tok) == size_t(std::count(vocab.begin(), vocab.end(), '\n')));
  for (const json& t : ref["texts"]) {
    const char* text = t["text"].get_ref<const std::string&>().c_str();
    std::vector<int64_t> ids(52);
    REQUIRE(cbir_tokenize(ids.data(), nullptr, tok, &text, 1, 52) == CBIR_OK);
    CHECK(ids == t["ids"].get<std::vector<int64_t>>());
  }
  ModelPtr dino = open_model(bundle_dir(root, "dinov2"));
  tok = reinterpret_cast<const cbir_tokenizer_t*>(0x1);
  CHECK(cbir_model_tokenizer(&tok, dino.get()) == CBIR_EUNSUPPORTED);
  CHECK(tok == nullptr);
  CHECK(cbir_model_tokenizer(nullptr, m.get()) == CBIR_EINVAL);
}

TEST_CASE("image batches: pixels, tensors, files and buffers, with a status per item") {
  CBIR_REQUIRE_TEST_MODELS(root);
  const std::string dir = bundle_dir(root, "chinese-clip");
  const json ref = cbir_test::read_json(dir + "/reference.json");
  ModelPtr m = open_model(dir, 3);
  const cbir_model_info_t info = info_of(m.get());
  const size_t dim = info.dim, side = info.input_side;

  SECTION("raw pixels (already 224 x 224: resizing is the identity) match the reference") {
    const json& img = ref["images"][0];
    REQUIRE(img["width"] == side);
    std::vector<uint8_t> rgb = rgb_of(img);
    // The same picture as RGBA with a padded stride, and a broken description around it.
    const size_t stride = side * 4 + 12;
    std::vector<uint8_t> rgba(stride * side, 0);
    for (size_t y = 0; y < side; ++y)
      for (size_t x = 0; x < side; ++x) {
        std::memcpy(&rgba[y * stride + x * 4], &rgb[(y * side + x) * 3], 3);
        rgba[y * stride + x * 4 + 3] = uint8_t(x);  // alpha is dropped, never blended
      }
    const int32_t s = static_cast<int32_t>(side);
    const cbir_pixels_t images[] = {{rgb.data(), s, s, 0, CBIR_PIXELS_RGB8},
                                    {rgba.data(), s, s, stride, CBIR_PIXELS_RGBA8},
                                    {rgb.data(), 0, s, 0, CBIR_PIXELS_RGB8},
                                    {rgb.data(), s, s, 0, 42},
                                    {nullptr, s, s, 0, CBIR_PIXELS_RGB8}};
    std::vector<float> out(5 * dim, 1.0f);
    int32_t st[5];
    REQUIRE(cbir_model_embed_image_pixels(out.data(), st, m.get(), images, 5) == CBIR_OK);
    CHECK(st[0] == CBIR_OK);
    CHECK(st[1] == CBIR_OK);
    CHECK(st[2] == CBIR_EINVAL);  // width 0: a bad description, not a bad image
    CHECK_THAT(cbir_model_item_error(2), Contains("images[2]: width"));
    CHECK(st[3] == CBIR_EINVAL);
    CHECK_THAT(cbir_model_item_error(3), Contains("images[3].format 42"));
    CHECK(st[4] == CBIR_EINVAL);
    CHECK(std::string(cbir_model_item_error(0)).empty());
    CHECK(std::string(cbir_model_item_error(99)).empty());
    const auto expect = cbir_test::floats(img["embedding"]);
    CHECK(cbir_test::cosine(out.data(), expect.data(), dim) >= 0.9999);
    CHECK(cbir_test::cosine(out.data() + dim, expect.data(), dim) >= 0.99999);
    for (size_t k = 2 * dim; k < 5 * dim; ++k) REQUIRE(out[k] == 0.0f);  // failed rows zeroed

    // Tensors: the caller's own preprocessing, here (x/255 - mean) / std by hand.
    std::vector<float> chw(3 * side * side);
    for (size_t c = 0; c < 3; ++c)
      for (size_t p = 0; p < side * side; ++p)
        chw[c * side * side + p] = (rgb[p * 3 + c] / 255.0f - info.mean[c]) / info.std[c];
    std::vector<float> t(dim);
    REQUIRE(cbir_model_embed_image_tensors(t.data(), m.get(), chw.data(), 1) == CBIR_OK);
    CHECK(cbir_test::cosine(t.data(), expect.data(), dim) >= 0.9999);
    CHECK(cbir_model_embed_image_tensors(t.data(), m.get(), nullptr, 1) == CBIR_EINVAL);
  }

  SECTION("files and buffers: good images embed, bad ones are reported, the batch goes on") {
    CBIR_REQUIRE_GOLDEN(golden);
    if (!cbir_test::read_json(root + "/index.json").value("golden", false)) {
      // The golden data is here now but was not when the bundles were made (by hand, or
      // scripts/test --no-golden before): their references are of generated pixels.
      WARN("SKIPPED: " << root << " was made without the golden data; rerun ctest, whose "
                       "make_test_models fixture remakes it");
      return;
    }
    std::vector<std::string> paths;
    std::vector<std::vector<float>> expect;  // reference rows of the good images (Pillow pixels)
    for (const json& img : ref["images"]) {
      paths.push_back(golden + "/images/" + img["name"].get<std::string>());
      expect.push_back(cbir_test::floats(img["embedding"]));
    }
    const size_t good = paths.size();
    for (const char* bad : {"empty.jpg", "truncated_half.jpg", "random_bytes.jpg", "bad_crc.png",
                            "bomb_100000x100000.png", "svg_image.svg"})
      paths.push_back(golden + "/bad/" + bad);
    paths.push_back(golden + "/images/does-not-exist.jpg");
    // A bad one first, so the good ones after it share batches with failures.
    std::rotate(paths.begin(), paths.begin() + good, paths.begin() + good + 1);

    std::vector<const char*> cpaths;
    for (const auto& p : paths) cpaths.push_back(p.c_str());
    std::vector<float> out(paths.size() * dim);
    std::vector<int32_t> st(paths.size());
    REQUIRE(cbir_model_embed_image_files(out.data(), st.data(), m.get(), cpaths.data(), paths.size()) == CBIR_OK);
    CHECK(std::string(cbir_last_error()).empty());
    size_t ok = 0;
    for (size_t i = 0; i < paths.size(); ++i) {
      INFO(paths[i] << ": status " << st[i] << " " << cbir_model_item_error(i));
      const bool is_good = paths[i].find("/bad/") == std::string::npos &&
                           paths[i].find("does-not-exist") == std::string::npos;
      if (!is_good) {
        CHECK(st[i] != CBIR_OK);
        CHECK_THAT(cbir_model_item_error(i), Contains(paths[i].substr(paths[i].rfind('/') + 1)));
        continue;
      }
      CHECK(st[i] == CBIR_OK);
      // cbir's own decoding and resizing against Pillow's pixels: lib/image aims to be exact
      // (at most one level off anywhere), which leaves the embedding this close.
      const auto& e = expect[ok++];
      CHECK(cbir_test::cosine(out.data() + i * dim, e.data(), dim) >= 0.999);
    }
    CHECK(ok == good);
    CHECK(st.back() == CBIR_ENOTFOUND);

    // The same images from memory give the same rows and statuses.
    std::vector<std::string> bytes;
    for (const auto& p : paths)
      bytes.push_back(cbir_test::fs::exists(p) ? cbir_test::read_file(p) : std::string());
    std::vector<const void*> data;
    std::vector<size_t> sizes;
    for (const auto& b : bytes) data.push_back(b.data()), sizes.push_back(b.size());
    std::vector<float> out2(paths.size() * dim);
    std::vector<int32_t> st2(paths.size());
    REQUIRE(cbir_model_embed_image_buffers(out2.data(), st2.data(), m.get(), data.data(), sizes.data(), paths.size()) == CBIR_OK);
    for (size_t i = 0; i + 1 < paths.size(); ++i) CHECK(st2[i] == st[i]);
    CHECK(st2.back() == CBIR_EIMAGE_EMPTY);
    CHECK_THAT(cbir_model_item_error(0), Contains("buffer 0"));
    for (size_t i = 0; i < paths.size(); ++i)
      if (st[i] == CBIR_OK) CHECK(cbir_test::cosine(out.data() + i * dim, out2.data() + i * dim, dim) > 0.999999);
  }

  SECTION("argument errors fail the whole call") {
    int32_t st[1];
    float out[1];
    const char* one[] = {"x.jpg"};
    CHECK(cbir_model_embed_image_files(out, nullptr, m.get(), one, 1) == CBIR_EINVAL);
    CHECK(cbir_model_embed_image_files(out, st, m.get(), nullptr, 1) == CBIR_EINVAL);
    CHECK(cbir_model_embed_image_files(out, st, nullptr, one, 1) == CBIR_EINVAL);
    CHECK(cbir_model_embed_image_files(nullptr, nullptr, m.get(), nullptr, 0) == CBIR_OK);
  }
}

TEST_CASE("cbir_model_classify gives the reference's zero-shot probabilities") {
  CBIR_REQUIRE_TEST_MODELS(root);
  const std::string dir = bundle_dir(root, "chinese-clip");
  const json ref = cbir_test::read_json(dir + "/reference.json");
  ModelPtr m = open_model(dir);
  const size_t dim = info_of(m.get()).dim;
  const json& cls = ref["classify"];
  const json& img = ref["images"][cls["image"].get<size_t>()];
  std::vector<uint8_t> rgb = rgb_of(img);
  const cbir_pixels_t px = {rgb.data(), img["width"].get<int32_t>(), img["height"].get<int32_t>(), 0,
                            CBIR_PIXELS_RGB8};
  std::vector<float> emb(dim);
  int32_t st;
  REQUIRE(cbir_model_embed_image_pixels(emb.data(), &st, m.get(), &px, 1) == CBIR_OK);
  REQUIRE(st == CBIR_OK);
  std::vector<const char*> labels;
  for (size_t i : cls["texts"].get<std::vector<size_t>>())
    labels.push_back(ref["texts"][i]["text"].get_ref<const std::string&>().c_str());
  std::vector<float> probs(labels.size());
  REQUIRE(cbir_model_classify(probs.data(), m.get(), emb.data(), labels.data(), labels.size()) == CBIR_OK);
  const auto expect = cls["probabilities"].get<std::vector<double>>();
  double total = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    INFO("label " << labels[i]);
    CHECK(probs[i] == Approx(expect[i]).margin(0.01));
    total += probs[i];
  }
  CHECK(total == Approx(1.0).epsilon(1e-5));

  CHECK(cbir_model_classify(probs.data(), m.get(), emb.data(), labels.data(), 0) == CBIR_EINVAL);
  std::vector<float> zero(dim, 0.0f);
  CHECK(cbir_model_classify(probs.data(), m.get(), zero.data(), labels.data(), 1) == CBIR_EINVAL);
  ModelPtr dino = open_model(bundle_dir(root, "dinov2"));
  CHECK(cbir_model_classify(probs.data(), dino.get(), emb.data(), labels.data(), 1) == CBIR_EUNSUPPORTED);
}

TEST_CASE("one model serves several threads at once, with the same results as one thread") {
  CBIR_REQUIRE_TEST_MODELS(root);
  const std::string dir = bundle_dir(root, "chinese-clip");
  const json ref = cbir_test::read_json(dir + "/reference.json");
  ModelPtr m = open_model(dir, 2);
  const size_t dim = info_of(m.get()).dim;
  std::vector<std::vector<uint8_t>> rgbs;
  std::vector<cbir_pixels_t> px;
  for (size_t i = 0; i < 4; ++i) rgbs.push_back(rgb_of(ref["images"][i]));
  for (auto& r : rgbs) px.push_back({r.data(), 224, 224, 0, CBIR_PIXELS_RGB8});
  std::vector<const char*> texts;
  for (size_t i = 0; i < 8; ++i) texts.push_back(ref["texts"][i]["text"].get_ref<const std::string&>().c_str());

  auto run = [&](std::vector<float>& img, std::vector<float>& txt) {
    img.assign(px.size() * dim, 0.0f);
    txt.assign(texts.size() * dim, 0.0f);
    std::vector<int32_t> st(px.size());
    int a = cbir_model_embed_image_pixels(img.data(), st.data(), m.get(), px.data(), px.size());
    int b = cbir_model_embed_texts(txt.data(), m.get(), texts.data(), texts.size());
    return a == CBIR_OK && b == CBIR_OK;
  };
  std::vector<float> img1, txt1;
  REQUIRE(run(img1, txt1));
  constexpr int kThreads = 4;
  std::vector<std::vector<float>> img(kThreads), txt(kThreads);
  std::vector<int> ok(kThreads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&, t] {
      ok[t] = 1;
      for (int rep = 0; rep < 3; ++rep) ok[t] &= run(img[t], txt[t]);
    });
  for (auto& th : pool) th.join();
  for (int t = 0; t < kThreads; ++t) {
    CHECK(ok[t] == 1);
    for (size_t k = 0; k < img1.size(); ++k) REQUIRE(img[t][k] == Approx(img1[k]).margin(1e-6));
    for (size_t k = 0; k < txt1.size(); ++k) REQUIRE(txt[t][k] == Approx(txt1[k]).margin(1e-6));
  }
}
