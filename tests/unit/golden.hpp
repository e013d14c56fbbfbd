// Where the golden parity data lives (../shared/golden), or "" when it is absent.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace cbir_test {

// Where the tests look: $CBIR_GOLDEN_DIR when set and not empty, else ../shared/golden beside
// the source tree (tests/CMakeLists.txt).
inline std::string golden_dir_wanted() {
  const char* env = std::getenv("CBIR_GOLDEN_DIR");
  return (env && *env) ? env : CBIR_SOURCE_DIR "/../shared/golden";
}

inline std::string golden_dir() {
  const std::string dir = golden_dir_wanted();
  return std::filesystem::is_directory(dir) ? dir : std::string();
}

}  // namespace cbir_test

// Use at the top of a test that needs golden data: it returns (with a warning) when absent.
// scripts/test counts the "SKIPPED:" warnings.
#define CBIR_REQUIRE_GOLDEN(dir_var)                                                   \
  const std::string dir_var = cbir_test::golden_dir();                                 \
  if (dir_var.empty()) {                                                               \
    WARN("SKIPPED: golden data not found at " << cbir_test::golden_dir_wanted()        \
                                              << " (set CBIR_GOLDEN_DIR)");            \
    return;                                                                            \
  }
