// What a cbir_model_t is, for the C API files that take one (collections, ingest).
#pragma once

#include <memory>
#include <string>

#include "c_api/tokenizer_handle.hpp"
#include "cbir.h"
#include "image/image.hpp"
#include "model/model.hpp"

struct cbir_model_t {
  std::shared_ptr<const cbir::model::Model> model;
  cbir::image::DecodeOptions decode;  // for the cbir_model_embed_image_* calls
  std::string path;
  std::string device;  // storage for cbir_model_info_t::device
  cbir_tokenizer_t tokenizer;  // borrows the model's (cbir_model_tokenizer)
};

namespace cbir::capi {

// The model behind a handle; CBIR_EINVAL naming `name` when it is NULL.
const model::Model& model_of(const cbir_model_t* handle, const char* name = "model");

}  // namespace cbir::capi
