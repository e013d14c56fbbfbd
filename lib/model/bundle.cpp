#include "model/bundle.hpp"

#include <cfloat>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/sha256.hpp"

namespace cbir::model {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* const kReexport = "re-export the bundle with tools/export";

// Field access that names bundle.json and the field in every error.
class Reader {
 public:
  Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void bad(const std::string& field, const std::string& why) const {
    fail(CBIR_ECORRUPT, file_ + ": '" + field + "' " + why + "; " + kReexport);
  }

  const json& get(const json& obj, const std::string& prefix, const char* key,
                  json::value_t type) const {
    const std::string field = prefix + key;
    auto it = obj.find(key);
    if (it == obj.end()) bad(field, "is missing");
    bool ok = it->type() == type || (type == json::value_t::number_float && it->is_number()) ||
              (type == json::value_t::number_integer && it->is_number_integer());
    if (!ok) bad(field, std::string("must be ") + type_name(type) + ", not " + it->type_name());
    return *it;
  }
  std::string str(const json& obj, const std::string& prefix, const char* key) const {
    return get(obj, prefix, key, json::value_t::string).get<std::string>();
  }
  int64_t integer(const json& obj, const std::string& prefix, const char* key, int64_t lo,
                  int64_t hi) const {
    int64_t v = get(obj, prefix, key, json::value_t::number_integer).get<int64_t>();
    if (v < lo || v > hi)
      bad(prefix + key, "is " + std::to_string(v) + ", outside [" + std::to_string(lo) + ", " +
                            std::to_string(hi) + "]");
    return v;
  }
  // Numbers are used as float: one beyond float's range (1e39) would become infinite.
  float number(const json& obj, const std::string& prefix, const char* key) const {
    double v = get(obj, prefix, key, json::value_t::number_float).get<double>();
    if (!fits_float(v)) bad(prefix + key, "is not a finite number in float's range");
    return static_cast<float>(v);
  }
  static bool fits_float(double v) { return std::isfinite(v) && std::fabs(v) <= FLT_MAX; }
  // A file named by a tower: a plain name listed under "files" (never a path out of the bundle).
  std::string file_ref(const json& obj, const std::string& prefix, const char* key,
                       const json& files) const {
    std::string name = str(obj, prefix, key);
    if (name.empty() || name.find('/') != std::string::npos ||
        name.find('\\') != std::string::npos || name == "." || name == "..")
      bad(prefix + key, "must be a file name inside the bundle folder, not '" + name + "'");
    if (!files.contains(name)) bad(prefix + key, "names '" + name + "', which 'files' does not list");
    return name;
  }

 private:
  static const char* type_name(json::value_t t) {
    switch (t) {
      case json::value_t::string: return "a string";
      case json::value_t::object: return "an object";
      case json::value_t::array: return "an array";
      case json::value_t::boolean: return "true or false";
      case json::value_t::number_integer: return "an integer";
      default: return "a number";
    }
  }
  std::string file_;
};

template <class Enum, size_t N>
Enum pick(const Reader& r, const std::string& field, const std::string& value,
          const std::pair<const char*, Enum> (&choices)[N]) {
  std::string names;
  for (const auto& [name, e] : choices) {
    if (value == name) return e;
    names += names.empty() ? name : std::string(", ") + name;
  }
  fail(CBIR_EUNSUPPORTED, field + " '" + value + "' is not supported by this cbir (known: " +
                              names + "); upgrade cbir or re-export the bundle");
  (void)r;
}

const std::pair<const char*, image::Resize> kResize[] = {
    {"squash", image::Resize::squash},
    {"shorter_side_then_center_crop", image::Resize::shorter_side_then_center_crop}};
// Which comes first, the resize or the conversion to RGB (absent: rgb_then_resize, as bundles
// made before the key existed were run).
const std::pair<const char*, bool> kOrder[] = {{"rgb_then_resize", false},
                                               {"resize_then_rgb", true}};
const std::pair<const char*, image::Interpolation> kInterpolation[] = {
    {"bicubic", image::Interpolation::bicubic}, {"bilinear", image::Interpolation::bilinear}};

image::Recipe read_recipe(const Reader& r, const json& pre) {
  const std::string p = "image.preprocess.";
  image::Recipe recipe;
  recipe.resize = pick(r, p + "resize", r.str(pre, p, "resize"), kResize);
  recipe.size = static_cast<int>(r.integer(pre, p, "size", 1, 8192));
  recipe.crop = static_cast<int>(r.integer(pre, p, "crop", 1, 8192));
  if (recipe.resize == image::Resize::shorter_side_then_center_crop && recipe.crop > recipe.size)
    r.bad(p + "crop", "is larger than 'size' (the crop is taken inside the resized image)");
  recipe.interpolation = pick(r, p + "interpolation", r.str(pre, p, "interpolation"), kInterpolation);
  for (const char* key : {"mean", "std"}) {
    const json& arr = r.get(pre, p, key, json::value_t::array);
    if (arr.size() != 3) r.bad(p + key, "must hold 3 numbers (R, G, B)");
    auto& dst = std::string(key) == "mean" ? recipe.mean : recipe.std;
    for (size_t c = 0; c < 3; ++c) {
      if (!arr[c].is_number() || !Reader::fits_float(arr[c].get<double>()))
        r.bad(p + key, "must hold 3 finite numbers in float's range");
      dst[c] = arr[c].get<float>();
    }
  }
  for (float s : recipe.std)
    if (!(s > 0)) r.bad(p + "std", "must be positive");
  if (pre.contains("order"))
    recipe.resize_before_rgb = pick(r, p + "order", r.str(pre, p, "order"), kOrder);
  return recipe;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(CBIR_EIO, path + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

json parse(const std::string& text, const std::string& path) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
    fail(CBIR_ECORRUPT, path + ": not valid JSON (" + e.what() + "); " + kReexport);
  }
}

// The fingerprint's recipe (docs/bundle.md): sha256 over each file's sha256, sorted by file
// name, then the canonical JSON (sorted keys, no spaces) of what decides the embeddings apart
// from the weights: image.preprocess, image.pooling, and text without its file names.
std::string fingerprint_of(const json& doc) {
  Sha256 h;
  for (const auto& [name, entry] : doc.at("files").items()) h.update(entry.at("sha256").get<std::string>());
  json canon = json::object();
  if (doc.contains("image")) {
    const json& img = doc.at("image");
    canon["image"] = {{"preprocess", img.at("preprocess")},
                      {"pooling", img.contains("pooling") ? img.at("pooling") : json(nullptr)}};
  }
  if (doc.contains("text")) {
    json text = doc.at("text");
    text.erase("file");
    text.erase("vocab");
    canon["text"] = text;
  }
  h.update(canon.dump());
  return "sha256:" + h.hex();
}

void check_file(const Bundle& b, const std::string& name, const BundleFile& entry) {
  const std::string path = b.path(name);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    fail(CBIR_ENOTFOUND, path + ": missing (bundle.json lists it); copy the whole bundle folder or " +
                             kReexport);
  uint64_t size = fs::file_size(path, ec);
  if (ec) fail(CBIR_EIO, path + ": cannot read its size (" + ec.message() + ")");
  if (size != entry.bytes)
    fail(CBIR_ECORRUPT, path + ": " + std::to_string(size) + " bytes, bundle.json records " +
                            std::to_string(entry.bytes) + " (truncated or replaced); " + kReexport);
}

}  // namespace

std::string bundle_fingerprint(const std::string& bundle_json_text) {
  return fingerprint_of(parse(bundle_json_text, "bundle.json"));
}

void check_hashes(const Bundle& b, const std::set<std::string>& skip) {
  for (const auto& [name, entry] : b.files)
    if (!skip.count(name) && sha256_file(b.path(name)) != entry.sha256)
      fail(CBIR_ECORRUPT, b.path(name) + ": sha256 differs from bundle.json (damaged or replaced); " +
                              kReexport);
}

Bundle read_bundle(const std::string& dir, bool verify_hashes) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    fail(CBIR_ENOTFOUND, dir + ": no such model bundle folder");
  const std::string path = dir + "/bundle.json";
  if (!fs::is_regular_file(path, ec))
    fail(CBIR_ENOTFOUND, path + ": missing; a model bundle is a folder made by tools/export");
  const json doc = parse(read_text_file(path), path);
  const Reader r(path);
  if (!doc.is_object()) r.bad("(top level)", "must be a JSON object");
  if (r.str(doc, "", "format") != "cbir-bundle")
    r.bad("format", "must be \"cbir-bundle\" (is this a cbir model bundle?)");
  const int64_t version = r.integer(doc, "", "format_version", 1, INT32_MAX);
  if (version > kBundleFormatVersion)
    fail(CBIR_EUNSUPPORTED, path + ": format_version " + std::to_string(version) +
                                " is newer than this cbir reads (" +
                                std::to_string(kBundleFormatVersion) + "); upgrade cbir");

  Bundle b;
  b.dir = dir;
  b.name = r.str(doc, "", "name");
  b.family = r.str(doc, "", "family");
  b.embed_dim = static_cast<int>(r.integer(doc, "", "embed_dim", 1, 65536));
  b.precision = r.str(doc, "", "precision");
  if (b.precision != "fp32" && b.precision != "int8" && b.precision != "fp16")
    r.bad("precision", "must be fp32, int8 or fp16, not '" + b.precision + "'");
  if (doc.contains("logit_scale") && !doc["logit_scale"].is_null()) {
    b.logit_scale = r.number(doc, "", "logit_scale");
    if (!(b.logit_scale > 0)) r.bad("logit_scale", "must be positive");
  }

  const json& files = r.get(doc, "", "files", json::value_t::object);
  for (const auto& [name, entry] : files.items()) {
    const std::string p = "files." + name + ".";
    if (!entry.is_object()) r.bad("files." + name, "must be an object");
    BundleFile f;
    f.sha256 = r.str(entry, p, "sha256");
    if (f.sha256.size() != 64 || f.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
      r.bad(p + "sha256", "must be 64 lower-case hex digits");
    f.bytes = static_cast<uint64_t>(r.integer(entry, p, "bytes", 0, INT64_MAX));
    b.files.emplace(name, f);
  }

  if (doc.contains("image")) {
    const json& img = r.get(doc, "", "image", json::value_t::object);
    ImageTower t;
    t.file = r.file_ref(img, "image.", "file", files);
    if (img.contains("pooling") && !img["pooling"].is_null()) t.pooling = r.str(img, "image.", "pooling");
    t.preprocess = read_recipe(r, r.get(img, "image.", "preprocess", json::value_t::object));
    b.image = t;
  }
  if (doc.contains("text")) {
    const json& txt = r.get(doc, "", "text", json::value_t::object);
    TextTower t;
    t.file = r.file_ref(txt, "text.", "file", files);
    t.vocab = r.file_ref(txt, "text.", "vocab", files);
    const std::string tokenizer = r.str(txt, "text.", "tokenizer");
    if (tokenizer != "bert_wordpiece")
      fail(CBIR_EUNSUPPORTED, path + ": text.tokenizer '" + tokenizer +
                                  "' is not supported (known: bert_wordpiece); upgrade cbir");
    t.context_length = static_cast<int>(r.integer(txt, "text.", "context_length", 3, 4096));
    t.lower_case = r.get(txt, "text.", "lower_case", json::value_t::boolean).get<bool>();
    b.text = t;
  }
  if (!b.image && !b.text) r.bad("image", "and 'text' are both missing: a bundle needs a tower");

  if (doc.contains("source") && doc["source"].is_object()) {
    const json& s = doc["source"];
    if (s.contains("architecture") && s["architecture"].is_string()) b.source_architecture = s["architecture"];
    if (s.contains("checkpoint") && s["checkpoint"].is_string()) b.source_checkpoint = s["checkpoint"];
  }

  b.fingerprint = r.str(doc, "", "fingerprint");
  if (b.fingerprint != fingerprint_of(doc))
    r.bad("fingerprint", "does not match the bundle's contents (edited by hand?)");
  for (const auto& [name, entry] : b.files) check_file(b, name, entry);
  if (verify_hashes) check_hashes(b, {});
  return b;
}

}  // namespace cbir::model
