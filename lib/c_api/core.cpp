// Library-wide entry points: version, status codes, errors, memory, logging, build features.
#include <cstdlib>
#include <string>

#include "c_api/guard.hpp"
#include "common/log.hpp"
#include "image/image.hpp"
#include "model/cpu_features.hpp"
#include "model/malloc_reuse.hpp"
#include "model/runtime.hpp"

namespace cbir::capi {
const char* last_error() noexcept;
}

extern "C" {

int32_t cbir_version_number(void) { return CBIR_VERSION_NUMBER; }

const char* cbir_version_string(void) {
#define CBIR_STR2(x) #x
#define CBIR_STR(x) CBIR_STR2(x)
  return CBIR_STR(CBIR_VERSION_MAJOR) "." CBIR_STR(CBIR_VERSION_MINOR) "." CBIR_STR(
      CBIR_VERSION_PATCH);
#undef CBIR_STR
#undef CBIR_STR2
}

const char* cbir_status_str(int status) {
  switch (status) {
    case CBIR_OK: return "ok";
    case CBIR_EINVAL: return "invalid argument";
    case CBIR_ENOMEM: return "out of memory";
    case CBIR_EIO: return "input/output error";
    case CBIR_ENOTFOUND: return "not found";
    case CBIR_EEXIST: return "already exists";
    case CBIR_ECORRUPT: return "data is corrupt";
    case CBIR_EMISMATCH: return "model and collection do not match";
    case CBIR_ELOCKED: return "collection is locked by another writer";
    case CBIR_EUNSUPPORTED: return "not supported";
    case CBIR_ECANCELLED: return "cancelled";
    case CBIR_EMODEL: return "model error";
    case CBIR_ECLOSED: return "handle is closed";
    case CBIR_EIMAGE_FORMAT: return "not an image, or an unsupported image format";
    case CBIR_EIMAGE_TRUNCATED: return "image data is truncated";
    case CBIR_EIMAGE_CORRUPT: return "image data is corrupt";
    case CBIR_EIMAGE_DIMENSIONS: return "image has invalid dimensions";
    case CBIR_EIMAGE_TOO_LARGE: return "image exceeds the pixel limit";
    case CBIR_EIMAGE_EMPTY: return "image file is empty";
    case CBIR_EINTERNAL: return "internal error";
    default: return "unknown status";
  }
}

const char* cbir_last_error(void) { return cbir::capi::last_error(); }

void cbir_free(void* ptr) { std::free(ptr); }

void cbir_set_log_callback(cbir_log_fn fn, void* user, int32_t min_level) {
  cbir::set_log_callback(fn, user, min_level);
}

uint32_t cbir_features(void) {
  uint32_t f = CBIR_FEATURE_TURBOJPEG;
  if (cbir::model::built_with_openmp()) f |= CBIR_FEATURE_OPENMP;
  if (cbir::model::built_with_cuda()) f |= CBIR_FEATURE_CUDA;
  if (cbir::model::cpu_native_bf16()) f |= CBIR_FEATURE_CPU_BF16;
  return f;
}

const char* cbir_cpu_features(void) {
  static const std::string features = cbir::model::cpu_features_string();
  return features.c_str();
}

const char* cbir_image_formats(void) {
  static const std::string formats = [] {
    try {
      return cbir::image::decodable_formats();
    } catch (...) {
      return std::string("jpeg png gif bmp tga pnm ico");
    }
  }();
  return formats.c_str();
}

const char* cbir_build_info(void) {
  static const std::string info = [] {
    try {
      return std::string("cbir ") + cbir_version_string() + "; " + cbir::model::runtime_info();
    } catch (...) {
      return std::string("cbir ") + cbir_version_string();
    }
  }();
  return info.c_str();
}

int cbir_set_malloc_reuse(int32_t on) {
  return cbir::capi::guard([&] { cbir::model::set_malloc_reuse(on != 0); });
}

int cbir_set_threads(int32_t threads) {
  return cbir::capi::guard([&] {
    cbir::require(threads >= 0, "threads must be >= 0 (0 = one per core)");
    cbir::model::set_threads(threads);
  });
}

}  // extern "C"
