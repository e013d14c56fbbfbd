// Where the golden parity data lives (../shared/golden), or "" when it is absent.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace cbir_test {

inline std::string golden_dir() {
  const char* env = std::getenv("CBIR_GOLDEN_DIR");
  std::string dir = env ? env : CBIR_GOLDEN_DIR;
  return std::filesystem::is_directory(dir) ? dir : std::string();
}

}  // namespace cbir_test

// Use at the top of a test that needs golden data: it returns (with a warning) when absent.
#define CBIR_REQUIRE_GOLDEN(dir_var)                                                    \
  const std::string dir_var = cbir_test::golden_dir();                                  \
  if (dir_var.empty()) {                                                                \
    WARN("SKIPPED: golden data not found at " CBIR_GOLDEN_DIR " (set CBIR_GOLDEN_DIR)"); \
    return;                                                                             \
  }
