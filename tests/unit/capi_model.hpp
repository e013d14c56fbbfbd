// What the tests of the model C API share: an owning model handle and its info.
#pragma once

#include <catch2/catch.hpp>

#include <memory>

#include "cbir.h"

namespace cbir_test {

struct ModelCloser {
  void operator()(cbir_model_t* m) const { cbir_model_close(m); }
};
using ModelPtr = std::unique_ptr<cbir_model_t, ModelCloser>;

inline cbir_model_info_t info_of(const cbir_model_t* m) {
  cbir_model_info_t info;
  info.version = sizeof info;
  REQUIRE(cbir_model_info(&info, m) == CBIR_OK);
  return info;
}

}  // namespace cbir_test
