// The model C API: open/close, info, and text and image embedding over cbir::model::Model.
#include "c_api/model.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "c_api/guard.hpp"

namespace cbir::capi {

const model::Model& model_of(const cbir_model_t* handle, const char* name) {
  return *need(handle, name)->model;
}

namespace {

constexpr cbir_model_options_t kDefaults = CBIR_MODEL_OPTIONS_INIT;

// Per-thread messages of the items that failed in the last image batch on this thread.
std::unordered_map<size_t, std::string>& item_errors() {
  thread_local std::unordered_map<size_t, std::string> errors;
  return errors;
}

std::vector<std::string_view> text_list(const char* const* texts, size_t n, const char* name) {
  if (n > 0) need(texts, name);
  std::vector<std::string_view> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (texts[i] == nullptr) fail(CBIR_EINVAL, std::string(name) + "[" + std::to_string(i) + "] is NULL");
    out.emplace_back(texts[i]);
  }
  return out;
}

// Decodes item i with `load`, preprocesses it into the next free slot of a batch, and runs the
// image tower whenever batch_size items are ready. A failure of one item (its decode or
// preprocessing) is recorded in statuses[i] and item_errors(), and its row is zeroed.
template <class Load>
void embed_items(const cbir_model_t* handle, float* out, int32_t* statuses, size_t n, Load load) {
  const model::Model& m = model_of(handle);
  const image::Recipe& recipe = m.recipe();
  item_errors().clear();
  if (n == 0) return;
  need(out, "out");
  need(statuses, "statuses");
  const size_t dim = m.dim(), side = m.image_side(), per_image = 3 * side * side;
  const size_t batch = static_cast<size_t>(m.batch_size());
  std::vector<float> pixels(std::min(n, batch) * per_image);
  std::vector<float> rows(std::min(n, batch) * dim);
  std::vector<size_t> waiting;  // item index of each filled slot
  auto flush = [&] {
    if (waiting.empty()) return;
    m.embed_images(pixels.data(), waiting.size(), rows.data());
    for (size_t k = 0; k < waiting.size(); ++k)
      std::copy_n(rows.data() + k * dim, dim, out + waiting[k] * dim);
    waiting.clear();
  };
  for (size_t i = 0; i < n; ++i) {
    std::fill_n(out + i * dim, dim, 0.0f);
    try {
      image::Image resized = image::resize_for(load(i), recipe);
      image::normalize_chw(resized, recipe, pixels.data() + waiting.size() * per_image);
      statuses[i] = CBIR_OK;
      waiting.push_back(i);
    } catch (const Error& e) {
      statuses[i] = e.code();
      item_errors()[i] = e.what();
    } catch (const std::bad_alloc&) {
      statuses[i] = CBIR_ENOMEM;
      item_errors()[i] = "out of memory while decoding this image";
    }
    if (waiting.size() == batch) flush();
  }
  flush();
}

image::PixelFormat pixel_format(int32_t format, size_t i) {
  switch (format) {
    case CBIR_PIXELS_RGB8: return image::PixelFormat::rgb8;
    case CBIR_PIXELS_RGBA8: return image::PixelFormat::rgba8;
    case CBIR_PIXELS_GRAY8: return image::PixelFormat::gray8;
    default:
      fail(CBIR_EINVAL, "images[" + std::to_string(i) + "].format " + std::to_string(format) +
                            " is not a CBIR_PIXELS_* value");
  }
}

}  // namespace
}  // namespace cbir::capi

using namespace cbir;
using capi::guard;
using capi::need;

extern "C" {

void cbir_model_options_init(cbir_model_options_t* opts) {
  if (opts) *opts = capi::kDefaults;
}

int cbir_model_open(cbir_model_t** out, const char* path, const cbir_model_options_t* opts) {
  if (out) *out = nullptr;
  return guard([&] {
    need(out, "out");
    need(path, "path");
    const cbir_model_options_t o = capi::options_or_default(opts, capi::kDefaults, "cbir_model_options_t");
    model::ModelOptions mo;
    mo.device = o.device ? o.device : "auto";
    switch (o.precision) {
      case CBIR_PRECISION_FP32: mo.precision = model::Precision::fp32; break;
      case CBIR_PRECISION_FP16: mo.precision = model::Precision::fp16; break;
      case CBIR_PRECISION_BF16: mo.precision = model::Precision::bf16; break;
      case CBIR_PRECISION_AUTO: mo.precision = model::Precision::automatic; break;
      default: fail(CBIR_EINVAL, "precision " + std::to_string(o.precision) + " is not a CBIR_PRECISION_* value");
    }
    mo.threads = o.threads;
    mo.batch_size = o.batch_size == 0 ? 8 : o.batch_size;
    mo.verify_hashes = o.verify_hashes != 0;
    if (o.towers & ~(CBIR_TOWER_IMAGE | CBIR_TOWER_TEXT))
      fail(CBIR_EINVAL, "towers " + std::to_string(o.towers) + " holds bits other than "
                        "CBIR_TOWER_IMAGE and CBIR_TOWER_TEXT");
    if (o.towers != 0) {
      mo.image = (o.towers & CBIR_TOWER_IMAGE) != 0;
      mo.text = (o.towers & CBIR_TOWER_TEXT) != 0;
    }
    auto handle = std::make_unique<cbir_model_t>();
    handle->model = model::Model::open(path, mo);
    handle->decode.exif_orientation = o.exif_orientation != 0;
    if (o.max_pixels > 0) handle->decode.max_pixels = o.max_pixels;
    if (o.fast_decode && handle->model->has_image())
      handle->decode = image::fast_options_for(handle->model->recipe(), handle->decode);
    handle->path = path;
    handle->device = handle->model->device().str();
    if (handle->model->has_text()) handle->tokenizer.tokenizer = &handle->model->tokenizer();
    *out = handle.release();
  });
}

void cbir_model_close(cbir_model_t* model) { delete model; }

int cbir_model_info(cbir_model_info_t* out, const cbir_model_t* model) {
  return guard([&] {
    need(out, "out");
    const model::Model& m = capi::model_of(model);
    if (out->version < sizeof(uint32_t) || out->version > sizeof(cbir_model_info_t))
      fail(CBIR_EINVAL, "cbir_model_info_t: unknown version " + std::to_string(out->version) +
                            " (set it to sizeof(cbir_model_info_t))");
    const model::Bundle& b = m.bundle();
    cbir_model_info_t info{};
    info.version = out->version;
    info.name = b.name.c_str();
    info.family = b.family.c_str();
    info.fingerprint = b.fingerprint.c_str();
    info.precision = b.precision.c_str();
    info.device = model->device.c_str();
    info.path = model->path.c_str();
    info.dim = m.dim();
    info.has_image = m.has_image();
    info.has_text = m.has_text();
    info.context_length = m.has_text() ? m.context_length() : 0;
    info.logit_scale = b.logit_scale;
    info.batch_size = m.batch_size();
    info.pooling = "";
    info.compute_precision = m.compute_precision();
    if (b.image) {
      const image::Recipe& r = b.image->preprocess;
      info.resize = r.resize == image::Resize::squash ? CBIR_RESIZE_SQUASH
                                                      : CBIR_RESIZE_SHORTER_SIDE_THEN_CENTER_CROP;
      info.image_size = r.size;
      info.image_crop = r.crop;
      info.input_side = r.output_side();
      info.interpolation = r.interpolation == image::Interpolation::bicubic
                               ? CBIR_INTERPOLATION_BICUBIC
                               : CBIR_INTERPOLATION_BILINEAR;
      std::copy(r.mean.begin(), r.mean.end(), info.mean);
      std::copy(r.std.begin(), r.std.end(), info.std);
      info.pooling = b.image->pooling.c_str();
      info.resize_before_rgb = r.resize_before_rgb ? 1 : 0;
    }
    std::memcpy(out, &info, out->version);  // only what the caller's struct has room for
  });
}

int cbir_model_embed_texts(float* out, const cbir_model_t* model, const char* const* texts,
                           size_t n) {
  return guard([&] {
    const model::Model& m = capi::model_of(model);
    auto list = capi::text_list(texts, n, "texts");
    if (n > 0) need(out, "out");
    m.embed_texts(list, out);
  });
}

int cbir_model_tokenizer(const cbir_tokenizer_t** out, const cbir_model_t* model) {
  if (out) *out = nullptr;
  return guard([&] {
    need(out, "out");
    capi::model_of(model).tokenizer();  // CBIR_EUNSUPPORTED without a text tower
    *out = &model->tokenizer;
  });
}

int cbir_model_embed_image_files(float* out, int32_t* statuses, const cbir_model_t* model,
                                 const char* const* paths, size_t n) {
  return guard([&] {
    if (n > 0) need(paths, "paths");
    capi::embed_items(model, out, statuses, n, [&](size_t i) {
      if (paths[i] == nullptr) fail(CBIR_EINVAL, "paths[" + std::to_string(i) + "] is NULL");
      return image::decode_file(paths[i], model->decode);
    });
  });
}

int cbir_model_embed_image_buffers(float* out, int32_t* statuses, const cbir_model_t* model,
                                   const void* const* data, const size_t* sizes, size_t n) {
  return guard([&] {
    if (n > 0) {
      need(data, "data");
      need(sizes, "sizes");
    }
    capi::embed_items(model, out, statuses, n, [&](size_t i) {
      const std::string name = "buffer " + std::to_string(i);
      if (data[i] == nullptr && sizes[i] > 0) fail(CBIR_EINVAL, name + " is NULL");
      return image::decode_memory(static_cast<const uint8_t*>(data[i]), sizes[i], model->decode, name);
    });
  });
}

int cbir_model_embed_image_pixels(float* out, int32_t* statuses, const cbir_model_t* model,
                                  const cbir_pixels_t* images, size_t n) {
  return guard([&] {
    if (n > 0) need(images, "images");
    capi::embed_items(model, out, statuses, n, [&](size_t i) {
      const cbir_pixels_t& p = images[i];
      const std::string name = "images[" + std::to_string(i) + "]";
      if (p.data == nullptr) fail(CBIR_EINVAL, name + ".data is NULL");
      const image::PixelFormat format = capi::pixel_format(p.format, i);
      try {
        return image::from_pixels(p.data, p.width, p.height, p.stride, format);
      } catch (const Error& e) {
        fail(e.code(), name + ": " + e.what());
      }
    });
  });
}

const char* cbir_model_item_error(size_t index) {
  const auto& errors = capi::item_errors();
  auto it = errors.find(index);
  return it == errors.end() ? "" : it->second.c_str();
}

int cbir_model_embed_image_tensors(float* out, const cbir_model_t* model, const float* pixels,
                                   size_t n) {
  return guard([&] {
    const model::Model& m = capi::model_of(model);
    m.recipe();
    if (n == 0) return;
    m.embed_images(need(pixels, "pixels"), n, need(out, "out"));
  });
}

int cbir_model_classify(float* probs, const cbir_model_t* model, const float* image_embedding,
                        const char* const* labels, size_t n_labels) {
  return guard([&] {
    const model::Model& m = capi::model_of(model);
    auto list = capi::text_list(labels, n_labels, "labels");
    m.classify(need(image_embedding, "image_embedding"), list, need(probs, "probs"));
  });
}

}  // extern "C"
