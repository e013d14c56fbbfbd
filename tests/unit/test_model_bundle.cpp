// Bundles made here from TorchScript written in C++ (no Python needed): a valid one loads and
// embeds; every kind of damage or mismatch is refused with its own code and a clear message.
#include <catch2/catch.hpp>

#include <torch/script.h>

#include "common/error.hpp"
#include "model/bundle.hpp"
#include "model/model.hpp"
#include "model/sha256.hpp"
#include "model/torchscript.hpp"
#include "test_model_util.hpp"

using namespace cbir::model;
using cbir_test::json;
using cbir_test::TempDir;
using Catch::Matchers::Contains;

namespace {

constexpr int kDim = 8;
constexpr int kSide = 16;

const char* const kImage = R"JIT(
def forward(self, x):
    return torch.matmul(x.mean(dim=[2, 3]), self.proj)
)JIT";
// Masks [PAD] (id 0), so padded and trimmed inputs agree.
const char* const kText = R"JIT(
def forward(self, ids):
    mask = (ids != 0).unsqueeze(-1).float()
    h = torch.embedding(self.emb, ids) * mask
    return torch.matmul(h.sum(1) / mask.sum(1).clamp(min=1.0), self.proj)
)JIT";

const std::vector<std::string> kVocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b",
                                         "c", "d", "e", "##s", "red", "car"};

void save_module(const std::string& path, const std::string& source, int64_t in_features) {
  torch::jit::Module m("Tower");
  torch::manual_seed(7);
  if (in_features == 3) {
    m.register_parameter("proj", torch::randn({3, kDim}), false);
  } else {
    m.register_parameter("emb", torch::randn({in_features, 6}), false);
    m.register_parameter("proj", torch::randn({6, kDim}), false);
  }
  m.define(source);
  m.save(path);
}

void save_image(const std::string& path, const std::string& source = kImage) { save_module(path, source, 3); }
void save_text(const std::string& path, const std::string& source = kText) {
  save_module(path, source, static_cast<int64_t>(kVocab.size()));
}

// Records each file's sha256 and size, recomputes the fingerprint, writes bundle.json.
void seal(const std::string& dir, json doc) {
  for (auto& [name, entry] : doc["files"].items()) {
    entry["sha256"] = sha256_file(dir + "/" + name);
    entry["bytes"] = cbir_test::fs::file_size(dir + "/" + name);
  }
  doc["fingerprint"] = bundle_fingerprint(doc.dump());
  cbir_test::write_file(dir + "/bundle.json", doc.dump(2));
}

// A small CLIP-like bundle: 16x16 squash images, the vocabulary above, context length 8.
void make_bundle(const std::string& dir) {
  save_image(dir + "/image.pt");
  save_text(dir + "/text.pt");
  std::string vocab;
  for (const auto& t : kVocab) vocab += t + "\n";
  cbir_test::write_file(dir + "/vocab.txt", vocab);
  json doc = {
      {"format", "cbir-bundle"},
      {"format_version", 1},
      {"name", "made-in-cpp"},
      {"family", "chinese-clip"},
      {"embed_dim", kDim},
      {"logit_scale", 100.0},
      {"precision", "fp32"},
      {"image",
       {{"file", "image.pt"},
        {"preprocess",
         {{"resize", "squash"}, {"size", kSide}, {"crop", kSide}, {"interpolation", "bicubic"},
          {"mean", {0.48145466, 0.4578275, 0.40821073}},
          {"std", {0.26862954, 0.26130258, 0.27577711}}}}}},
      {"text",
       {{"file", "text.pt"}, {"tokenizer", "bert_wordpiece"}, {"vocab", "vocab.txt"},
        {"context_length", 8}, {"lower_case", true}}},
      {"source", {{"checkpoint", "none"}, {"architecture", "test"}}},
      {"files", {{"image.pt", json::object()}, {"text.pt", json::object()}, {"vocab.txt", json::object()}}}};
  seal(dir, doc);
}

// Applies `edit` to bundle.json; with `reseal`, hashes and fingerprint are made consistent again
// (so only the edit itself is wrong).
template <class Edit>
void edit_bundle(const std::string& dir, Edit edit, bool reseal = true) {
  json doc = cbir_test::read_json(dir + "/bundle.json");
  edit(doc);
  if (reseal) seal(dir, doc);
  else cbir_test::write_file(dir + "/bundle.json", doc.dump(2));
}

void expect_refused(const std::string& dir, int code, const std::string& fragment,
                    const ModelOptions& opts = {}) {
  try {
    Model::open(dir, opts);
    FAIL("the bundle was accepted; expected code " << code << " mentioning '" << fragment << "'");
  } catch (const cbir::Error& e) {
    INFO(e.what());
    CHECK(e.code() == code);
    CHECK_THAT(e.what(), Contains(fragment));
  }
}

ModelOptions cpu() {
  ModelOptions o;
  o.device = "cpu";
  return o;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 test vectors, in one piece or many") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  const std::string expect = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  CHECK(sha256_hex(million) == expect);
  Sha256 pieces;
  for (size_t at = 0; at < million.size(); at += 7) pieces.update(million.substr(at, 7));
  CHECK(pieces.hex() == expect);

  TempDir dir("sha256");
  cbir_test::write_file(dir / "a.bin", million);
  CHECK(sha256_file(dir / "a.bin") == expect);
  try {
    sha256_file(dir / "missing.bin");
    FAIL("no error");
  } catch (const cbir::Error& e) {
    CHECK(e.code() == CBIR_ENOTFOUND);
    CHECK_THAT(e.what(), Contains("missing.bin"));
  }
}

TEST_CASE("a valid bundle loads, and its towers give normalised rows") {
  TempDir dir("bundle-ok");
  make_bundle(dir.str());
  const Bundle b = read_bundle(dir.str(), true);
  CHECK(b.name == "made-in-cpp");
  CHECK(b.embed_dim == kDim);
  CHECK(b.logit_scale == Approx(100.0));
  REQUIRE(b.image);
  CHECK(b.image->preprocess.output_side() == kSide);
  REQUIRE(b.text);
  CHECK(b.text->context_length == 8);
  CHECK(b.fingerprint.rfind("sha256:", 0) == 0);

  auto m = Model::open(dir.str(), cpu());
  CHECK(m->device().str() == "cpu");
  std::vector<float> pixels(2 * 3 * kSide * kSide);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::sin(0.01 * i);
  std::vector<float> out(2 * kDim);
  m->embed_images(pixels.data(), 2, out.data());
  CHECK(cbir_test::cosine(out.data(), out.data(), kDim) == Approx(1.0));
  double norm = 0;
  for (int j = 0; j < kDim; ++j) norm += out[j] * out[j];
  CHECK(norm == Approx(1.0).epsilon(1e-5));

  // Texts: trimmed to the longest real length per batch, so "a" alone and "a" next to a longer
  // text (padded) embed the same.
  std::vector<float> alone(kDim), together(2 * kDim);
  m->embed_texts({"a"}, alone.data());
  m->embed_texts({"a", "red car b c d e"}, together.data());
  CHECK(cbir_test::cosine(alone.data(), together.data(), kDim) > 0.99999);
  CHECK(cbir_test::cosine(together.data(), together.data() + kDim, kDim) < 0.999);
}

TEST_CASE("a damaged or mismatched bundle is refused with its own code and a clear message") {
  TempDir dir("bundle-bad");
  const std::string d = dir.str();
  make_bundle(d);

  SECTION("no such folder") { expect_refused(d + "/nope", CBIR_ENOTFOUND, "no such model bundle folder"); }
  SECTION("no bundle.json") {
    cbir_test::fs::remove(d + "/bundle.json");
    expect_refused(d, CBIR_ENOTFOUND, "bundle.json: missing");
  }
  SECTION("a listed file is missing") {
    cbir_test::fs::remove(d + "/text.pt");
    expect_refused(d, CBIR_ENOTFOUND, "text.pt: missing");
  }
  SECTION("bundle.json is not JSON") {
    cbir_test::write_file(d + "/bundle.json", "{\"format\": \"cbir-bundle\", ");
    expect_refused(d, CBIR_ECORRUPT, "not valid JSON");
  }
  SECTION("a number beyond double's range (found by fuzz_bundle: an exception escaped)") {
    std::string text = cbir_test::read_file(d + "/bundle.json");
    const size_t at = text.find("100.0");
    REQUIRE(at != std::string::npos);
    cbir_test::write_file(d + "/bundle.json", text.replace(at, 5, "1e400"));
    expect_refused(d, CBIR_ECORRUPT, "not valid JSON");
  }
  SECTION("not a cbir bundle") {
    edit_bundle(d, [](json& j) { j["format"] = "something-else"; });
    expect_refused(d, CBIR_ECORRUPT, "'format' must be \"cbir-bundle\"");
  }
  SECTION("a field of the wrong type") {
    edit_bundle(d, [](json& j) { j["embed_dim"] = "eight"; });
    expect_refused(d, CBIR_ECORRUPT, "'embed_dim' must be an integer, not string");
  }
  SECTION("a required field is missing") {
    edit_bundle(d, [](json& j) { j["image"]["preprocess"].erase("std"); });
    expect_refused(d, CBIR_ECORRUPT, "'image.preprocess.std' is missing");
  }
  SECTION("a field out of range") {
    edit_bundle(d, [](json& j) { j["text"]["context_length"] = 100000; });
    expect_refused(d, CBIR_ECORRUPT, "'text.context_length' is 100000, outside");
  }
  SECTION("a number beyond float's range (found by fuzz_bundle: it became infinite)") {
    edit_bundle(d, [](json& j) { j["logit_scale"] = 1e39; });
    expect_refused(d, CBIR_ECORRUPT, "'logit_scale' is not a finite number in float's range");
    edit_bundle(d, [](json& j) {
      j["logit_scale"] = 100.0;
      j["image"]["preprocess"]["mean"][1] = -1e300;
    });
    expect_refused(d, CBIR_ECORRUPT, "'image.preprocess.mean' must hold 3 finite numbers in float's range");
  }
  SECTION("a file name that leaves the bundle folder") {
    edit_bundle(d, [](json& j) { j["image"]["file"] = "../image.pt"; });
    expect_refused(d, CBIR_ECORRUPT, "must be a file name inside the bundle folder");
  }
  SECTION("a newer format version") {
    edit_bundle(d, [](json& j) { j["format_version"] = 2; });
    expect_refused(d, CBIR_EUNSUPPORTED, "format_version 2 is newer than this cbir reads (1)");
  }
  SECTION("an unknown tokenizer or resize method") {
    edit_bundle(d, [](json& j) { j["text"]["tokenizer"] = "sentencepiece"; });
    expect_refused(d, CBIR_EUNSUPPORTED, "text.tokenizer 'sentencepiece' is not supported");
    edit_bundle(d, [](json& j) {
      j["text"]["tokenizer"] = "bert_wordpiece";
      j["image"]["preprocess"]["resize"] = "letterbox";
    });
    expect_refused(d, CBIR_EUNSUPPORTED, "image.preprocess.resize 'letterbox' is not supported");
  }
  SECTION("a file whose contents changed (same size)") {
    std::string vocab = cbir_test::read_file(d + "/vocab.txt");
    vocab[vocab.size() - 2] = 'x';  // "car" -> "cax"
    cbir_test::write_file(d + "/vocab.txt", vocab);
    expect_refused(d, CBIR_ECORRUPT, "vocab.txt: sha256 differs from bundle.json");
    ModelOptions fast = cpu();
    fast.verify_hashes = false;  // sizes only: opens (the damage is not detectable then)
    CHECK_NOTHROW(Model::open(d, fast));
  }
  SECTION("a truncated file") {
    std::string bytes = cbir_test::read_file(d + "/image.pt");
    cbir_test::write_file(d + "/image.pt", bytes.substr(0, bytes.size() / 2));
    expect_refused(d, CBIR_ECORRUPT, "image.pt: " + std::to_string(bytes.size() / 2) + " bytes");
  }
  SECTION("bundle.json edited by hand: fingerprint mismatch") {
    edit_bundle(d, [](json& j) { j["image"]["preprocess"]["mean"][0] = 0.5; }, false);
    expect_refused(d, CBIR_ECORRUPT, "'fingerprint' does not match");
  }
  SECTION("a tower that is not TorchScript") {
    cbir_test::write_file(d + "/image.pt", "this is not a zip archive");
    edit_bundle(d, [](json&) {});
    expect_refused(d, CBIR_ECORRUPT, "image.pt: not a TorchScript file");
  }
  SECTION("embed_dim differs from the towers' output") {
    edit_bundle(d, [](json& j) { j["embed_dim"] = kDim + 1; });
    expect_refused(d, CBIR_EMODEL, "expected float[2, 9]");
  }
  SECTION("a tower that gives NaN") {
    save_image(d + "/image.pt", R"JIT(
def forward(self, x):
    y = torch.matmul(x.mean(dim=[2, 3]), self.proj)
    return y / torch.zeros_like(y)
)JIT");
    edit_bundle(d, [](json&) {});
    expect_refused(d, CBIR_EMODEL, "non-finite values");
  }
  SECTION("a tower that returns a tuple") {
    save_image(d + "/image.pt", R"JIT(
def forward(self, x):
    y = torch.matmul(x.mean(dim=[2, 3]), self.proj)
    return (y, y)
)JIT");
    edit_bundle(d, [](json&) {});
    expect_refused(d, CBIR_EMODEL, "returned Tuple, not a tensor");
  }
  SECTION("a tower that drops the batch dimension") {
    save_image(d + "/image.pt", R"JIT(
def forward(self, x):
    return torch.matmul(x.mean(dim=[2, 3]), self.proj)[0:1]
)JIT");
    edit_bundle(d, [](json&) {});
    expect_refused(d, CBIR_EMODEL, "returned Float[1, 8] for a batch of 2");
  }
  SECTION("a tower that returns integers") {
    save_image(d + "/image.pt", R"JIT(
def forward(self, x):
    return torch.matmul(x.mean(dim=[2, 3]), self.proj).long()
)JIT");
    edit_bundle(d, [](json&) {});
    expect_refused(d, CBIR_EMODEL, "returned Long[2, 8]");
  }
  SECTION("a tower that fails on the input") {
    save_image(d + "/image.pt", R"JIT(
def forward(self, x):
    return torch.matmul(x.flatten(1), self.proj)
)JIT");
    edit_bundle(d, [](json&) {});
    expect_refused(d, CBIR_EMODEL, "the image tower failed");
  }
  SECTION("a text tower that does not mask padding") {
    save_text(d + "/text.pt", R"JIT(
def forward(self, ids):
    return torch.matmul(torch.embedding(self.emb, ids).mean(1), self.proj)
)JIT");
    edit_bundle(d, [](json&) {});
    expect_refused(d, CBIR_EMODEL, "padding changes the text embedding");
  }
  SECTION("a vocabulary whose [PAD] is not id 0") {
    std::string vocab = cbir_test::read_file(d + "/vocab.txt");
    cbir_test::write_file(d + "/vocab.txt", "[unused0]\n" + vocab);
    edit_bundle(d, [](json&) {});
    expect_refused(d, CBIR_ECORRUPT, "[PAD] must be token 0");
  }
}

TEST_CASE("devices and precisions a build cannot run are refused before loading") {
  TempDir dir("bundle-device");
  make_bundle(dir.str());
  ModelOptions o = cpu();
  o.device = "gpu";
  expect_refused(dir.str(), CBIR_EINVAL, "device 'gpu' is not one of cpu, cuda, cuda:N, auto", o);
  o.device = "cuda:x";
  expect_refused(dir.str(), CBIR_EINVAL, "device 'cuda:x'", o);
  o = cpu();
  o.precision = Precision::fp16;
  expect_refused(dir.str(), CBIR_EUNSUPPORTED, "precision fp16 runs only on CUDA", o);
  o = cpu();
  o.batch_size = 0;
  expect_refused(dir.str(), CBIR_EINVAL, "batch_size", o);

  edit_bundle(dir.str(), [](json& j) { j["precision"] = "int8"; });
  o = cpu();
  o.device = "cuda:0";
  expect_refused(dir.str(), CBIR_EUNSUPPORTED, "runs on the CPU only", o);
  edit_bundle(dir.str(), [](json& j) { j["precision"] = "fp16"; });
  expect_refused(dir.str(), CBIR_EUNSUPPORTED, "runs on CUDA only", cpu());

  if (!cuda_available()) {
    edit_bundle(dir.str(), [](json& j) { j["precision"] = "fp32"; });
    o = cpu();
    o.device = "cuda";
    expect_refused(dir.str(), CBIR_EUNSUPPORTED, "cuda:0", o);
    o.device = "auto";  // falls back to the CPU
    CHECK(Model::open(dir.str(), o)->device().str() == "cpu");
  }
}
