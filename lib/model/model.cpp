#include "model/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "common/error.hpp"
#include "model/cpu_features.hpp"
#include "model/malloc_reuse.hpp"
#include "model/runtime.hpp"
#include "model/torchscript.hpp"

namespace cbir::model {

Device parse_device(const std::string& text) {
  if (text == "auto") return Device{cuda_available(), 0};
  if (text == "cpu") return Device{};
  if (text == "cuda") return Device{true, 0};
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5 && text.size() <= 8 &&
      text.find_first_not_of("0123456789", 5) == std::string::npos)
    return Device{true, std::stoi(text.substr(5))};
  fail(CBIR_EINVAL, "device '" + text + "' is not one of cpu, cuda, cuda:N, auto");
}

namespace {

// The device and precision a bundle can actually run with, or a clear refusal.
void resolve(const Bundle& b, const std::string& requested, Device& device, Precision& precision) {
  device = parse_device(requested);
  const bool automatic = precision == Precision::automatic;
  if (b.precision == "int8") {
    if (requested == "auto") device = Device{};
    if (device.cuda)
      fail(CBIR_EUNSUPPORTED, b.dir + ": an int8 bundle (dynamic quantisation) runs on the CPU "
                                      "only; use device \"cpu\" or a bundle exported without "
                                      "--quantize");
    if (precision != Precision::fp32 && !automatic)
      fail(CBIR_EUNSUPPORTED, b.dir + ": an int8 bundle runs in int8 (its precision was chosen "
                                      "at export); for " + precision_name(precision) +
                                      " open the same model exported without --quantize");
    precision = Precision::fp32;  // the layers that are not quantised
    return;
  }
  if (b.precision == "fp16") {
    if (!device.cuda)
      fail(CBIR_EUNSUPPORTED, b.dir + ": an fp16 bundle (exported with --half) runs on CUDA "
                                      "only; use a bundle exported without --half on the CPU");
    if (precision == Precision::fp32 || automatic) precision = Precision::fp16;
    return;
  }
  if (automatic) {  // CUDA keeps fp32 (its fp16/bf16 are asked for by name)
    precision = !device.cuda && cpu_native_bf16() ? Precision::bf16 : Precision::fp32;
    return;
  }
  if (device.cuda) return;
  if (precision == Precision::fp16)
    fail(CBIR_EUNSUPPORTED, "precision fp16 runs only on CUDA; on the CPU use fp32, or bf16 "
                            "where the CPU has it (auto picks it)");
  if (precision == Precision::bf16 && !cpu_native_bf16())
    fail(CBIR_EUNSUPPORTED,
         std::string("precision bf16: this CPU has no bf16 instructions (AVX512-BF16 or "
                     "AMX-BF16") + (std::getenv("CBIR_CPU_BF16") ? ", or CBIR_CPU_BF16=0 says so" : "") +
             "), so bf16 would run emulated, slower than fp32; use precision fp32, or auto "
             "(which picks bf16 only where it is native)");
}

}  // namespace

std::shared_ptr<const Model> Model::open(const std::string& dir, const ModelOptions& opts) {
  require(opts.batch_size >= 1 && opts.batch_size <= 65536, "batch_size must be in [1, 65536]");
  require(opts.threads >= 0, "threads must be >= 0 (0 leaves the process setting as it is)");
  require(opts.image || opts.text, "towers names neither the image nor the text tower");
  std::shared_ptr<Model> m(new Model());
  m->bundle_ = read_bundle(dir, false);  // sizes only; the towers to load are hashed below
  Bundle& b = m->bundle_;
  const bool one_tower = !(opts.image && opts.text);  // all towers (default) takes what there is
  if (one_tower && ((opts.image && !b.image) || (opts.text && !b.text)))
    fail(CBIR_EUNSUPPORTED, dir + ": the bundle has no " + (opts.image ? "image" : "text") +
                                " tower to load");
  std::set<std::string> skip;
  if (!opts.image && b.image) {
    skip.insert(b.image->file);
    b.image.reset();
  }
  if (!opts.text && b.text) {
    skip.insert({b.text->file, b.text->vocab});
    b.text.reset();
  }
  if (opts.verify_hashes) check_hashes(b, skip);
  m->batch_size_ = opts.batch_size;
  Precision precision = opts.precision;
  resolve(m->bundle_, opts.device, m->device_, precision);
  m->precision_ = precision;
  if (opts.threads > 0) {
    if (m->device_.cuda)
      set_threads(opts.threads);
    else  // fp32's matrix products run in OpenBLAS; int8's and bf16's in oneDNN (OpenMP)
      set_model_threads(opts.threads, /*blas_gemm=*/m->bundle_.precision != "int8" &&
                                          precision == Precision::fp32);
  }
  if (!m->device_.cuda) default_malloc_reuse();

  const TorchScriptOptions ts{m->device_, precision, m->bundle_.embed_dim,
                              m->bundle_.precision == "int8"};
  if (m->bundle_.image) m->image_ = load_torchscript_image(m->bundle_.path(m->bundle_.image->file), ts);
  if (m->bundle_.text) {
    const TextTower& t = *m->bundle_.text;
    m->tokenizer_ = std::make_unique<text::Tokenizer>(
        text::Tokenizer::from_vocab_file(m->bundle_.path(t.vocab), t.lower_case));
    if (m->tokenizer_->pad_id() != 0)
      fail(CBIR_ECORRUPT, m->bundle_.path(t.vocab) + ": [PAD] must be token 0 (the text tower "
                                                      "masks id 0); re-export the bundle");
    m->text_ = load_torchscript_text(m->bundle_.path(t.file), ts);
  }
  // fp32 rows do not depend on their padding; int8 and fp16 move slightly with it.
  m->warm_up(m->bundle_.precision == "fp32" && precision == Precision::fp32);
  return m;
}

const image::Recipe& Model::recipe() const {
  if (!image_)
    fail(CBIR_EUNSUPPORTED, bundle_.name + " has no image tower loaded (a text-only bundle, or "
                                           "opened with towers = CBIR_TOWER_TEXT)");
  return bundle_.image->preprocess;
}

const text::Tokenizer& Model::tokenizer() const {
  if (!text_)
    fail(CBIR_EUNSUPPORTED, bundle_.name + " has no text tower loaded (DINOv2 bundles embed "
                                           "images only; or opened with towers = CBIR_TOWER_IMAGE)");
  return *tokenizer_;
}

int Model::context_length() const {
  tokenizer();
  return bundle_.text->context_length;
}

// Checks that every value is finite, then L2-normalises each row in place.
void Model::finish(float* rows, size_t n, const char* tower) const {
  const size_t d = static_cast<size_t>(dim());
  for (size_t i = 0; i < n; ++i) {
    float* r = rows + i * d;
    double sum = 0;
    for (size_t j = 0; j < d; ++j) sum += double(r[j]) * r[j];
    if (!std::isfinite(sum))
      fail(CBIR_EMODEL, bundle_.name + ": the " + tower +
                            " tower produced non-finite values (NaN or infinity); the weights are "
                            "damaged or the export is wrong");
    const float scale = sum > 0 ? static_cast<float>(1.0 / std::sqrt(sum)) : 0.0f;
    for (size_t j = 0; j < d; ++j) r[j] *= scale;
  }
}

void Model::embed_images(const float* pixels, size_t n, float* out) const {
  recipe();
  if (n == 0) return;
  require(pixels && out, "pixels and out must not be NULL");
  const int side = image_side();
  const size_t per_image = 3 * size_t(side) * side;
  for (size_t start = 0; start < n; start += batch_size_) {
    size_t count = std::min(n - start, size_t(batch_size_));
    image_->encode(pixels + start * per_image, count, side, out + start * dim());
    finish(out + start * dim(), count, "image");
  }
}

void Model::embed_token_ids(const int64_t* ids, size_t n, int len, float* out) const {
  tokenizer();
  require(len >= 1 && len <= context_length(), "token rows must hold 1..context_length ids");
  if (n == 0) return;
  require(ids && out, "ids and out must not be NULL");
  for (size_t start = 0; start < n; start += batch_size_) {
    size_t count = std::min(n - start, size_t(batch_size_));
    text_->encode(ids + start * len, count, len, out + start * dim());
    finish(out + start * dim(), count, "text");
  }
}

void Model::embed_texts(const std::vector<std::string_view>& texts, float* out) const {
  const text::Tokenizer& tok = tokenizer();
  if (texts.empty()) return;
  require(out != nullptr, "output buffer must not be NULL");
  const int ctx = context_length();
  std::vector<int64_t> ids;
  std::vector<int32_t> lengths;
  for (size_t start = 0; start < texts.size(); start += batch_size_) {
    size_t count = std::min(texts.size() - start, size_t(batch_size_));
    std::vector<std::string_view> batch(texts.begin() + start, texts.begin() + start + count);
    ids.assign(count * ctx, 0);
    lengths.assign(count, 0);
    try {
      tok.encode(batch, ctx, ids.data(), lengths.data());
    } catch (const Error& e) {
      if (e.code() != CBIR_EINVAL) throw;
      for (size_t k = 0; k < count; ++k) {  // name the text at fault (the error path only)
        try {
          tok.wordpiece_ids(batch[k]);
        } catch (const Error& bad) {
          fail(CBIR_EINVAL, "text " + std::to_string(start + k) + ": " + bad.what());
        }
      }
      throw;
    }
    // Trim the padding every row shares: the tower masks [PAD], so the result is the same and
    // attention over 52 positions would cost up to 10x more for a short query. (Unless the
    // backend is fast at one shape only: see keeps_first_plan().)
    const int len = text_->keeps_first_plan()
                        ? ctx
                        : std::max(1, *std::max_element(lengths.begin(), lengths.end()));
    for (size_t r = 1; r < count; ++r)
      std::copy_n(ids.begin() + r * ctx, len, ids.begin() + r * len);
    text_->encode(ids.data(), count, len, out + start * dim());
    finish(out + start * dim(), count, "text");
  }
}

void Model::classify(const float* image_embedding, const std::vector<std::string_view>& labels,
                     float* probs) const {
  tokenizer();
  if (!(bundle_.logit_scale > 0))
    fail(CBIR_EUNSUPPORTED, bundle_.name + " records no logit_scale, so it cannot classify "
                                           "(re-export a CLIP checkpoint with tools/export)");
  require(!labels.empty(), "classify needs at least one label");
  require(image_embedding && probs, "image_embedding and probs must not be NULL");
  const size_t d = static_cast<size_t>(dim());
  double norm = 0;
  for (size_t j = 0; j < d; ++j) norm += double(image_embedding[j]) * image_embedding[j];
  require(std::isfinite(norm) && norm > 0, "the image embedding must be finite and non-zero");
  std::vector<float> text(labels.size() * d);
  embed_texts(labels, text.data());
  std::vector<double> logits(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    double dot = 0;
    for (size_t j = 0; j < d; ++j) dot += double(image_embedding[j]) * text[i * d + j];
    logits[i] = bundle_.logit_scale * dot / std::sqrt(norm);
  }
  const double top = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (double& l : logits) total += (l = std::exp(l - top));
  for (size_t i = 0; i < labels.size(); ++i) probs[i] = static_cast<float>(logits[i] / total);
}

void Model::warm_up(bool exact) const {
  std::vector<float> out(2 * size_t(dim()));
  if (image_) {
    // A backend that keeps its first plan (encoder.hpp) gets a full batch first: the shape it
    // will see when indexing. (Up to 64: a larger batch would make opening too slow.)
    const size_t n = image_->keeps_first_plan() && batch_size_ <= 64 ? size_t(batch_size_) : 2;
    const int side = image_side();
    std::vector<float> pixels(n * 3 * size_t(side) * side, 0.0f), rows(n * size_t(dim()));
    embed_images(pixels.data(), n, rows.data());
  }
  if (text_) {
    // The same text padded to the context length and trimmed must embed the same: the tower
    // has to mask [PAD] (id 0), or trimming would change every query.
    const int ctx = context_length();
    const int64_t cls = tokenizer_->cls_id(), sep = tokenizer_->sep_id();
    std::vector<int64_t> padded(2 * size_t(ctx), 0);
    padded[0] = padded[ctx] = cls;
    padded[1] = padded[ctx + 1] = tokenizer_->unk_id();
    padded[2] = sep;
    padded[2 * size_t(ctx) - 1] = sep;  // the second row fills the context
    for (int j = 2; j < ctx - 1; ++j) padded[ctx + j] = tokenizer_->unk_id();
    const int64_t trimmed[] = {cls, tokenizer_->unk_id(), sep};
    std::vector<float> single(dim());
    // ... and one text at the full length: the shape of every query.
    if (text_->keeps_first_plan()) embed_token_ids(padded.data(), 1, ctx, single.data());
    embed_token_ids(padded.data(), 2, ctx, out.data());
    embed_token_ids(trimmed, 1, 3, single.data());
    double dot = 0;
    for (int j = 0; j < dim(); ++j) dot += double(out[j]) * single[j];
    if (dot < (exact ? 0.999 : 0.98))
      fail(CBIR_EMODEL, bundle_.path(bundle_.text->file) +
                            ": padding changes the text embedding (cosine " + std::to_string(dot) +
                            "): the tower must mask [PAD] (id 0); re-export the bundle");
  }
}

}  // namespace cbir::model
