// Helpers shared by the model tests: scratch folders, JSON files, cosine, and where the tiny
// bundles of tools/export/make_test_models.py are (the make_test_models CTest fixture).
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace cbir_test {

namespace fs = std::filesystem;
using nlohmann::json;

// A fresh folder under the system's temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(fs::temp_directory_path() /
              ("cbir-test-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
}

inline json read_json(const std::string& path) { return json::parse(read_file(path)); }

inline double cosine(const float* a, const float* b, size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; ++i) ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  return ab / std::sqrt(aa * bb);
}

inline std::vector<float> floats(const json& arr) { return arr.get<std::vector<float>>(); }

// The folder make_test_models.py wrote, or "" when CBIR_TEST_MODELS is unset (the test binary
// run by hand). Under ctest it is set, and a missing index.json is a failure, not a skip.
inline std::string test_models_dir() {
  const char* env = std::getenv("CBIR_TEST_MODELS");
  if (env == nullptr || *env == '\0') return "";
  INFO("CBIR_TEST_MODELS=" << env << ": make_test_models.py did not write index.json there");
  REQUIRE(fs::is_regular_file(fs::path(env) / "index.json"));
  return env;
}

// Where the model tests run the towers: $CBIR_TEST_DEVICE ("cuda:0" on a GPU machine, as
// tools/gpu/check.sh sets it), else the CPU. int8 bundles always run on the CPU (dynamic
// quantisation has no CUDA kernels).
inline std::string test_device(const std::string& bundle_precision = "fp32") {
  const char* env = std::getenv("CBIR_TEST_DEVICE");
  if (bundle_precision == "int8" || env == nullptr || *env == '\0') return "cpu";
  return env;
}
inline std::string test_device_of(const std::string& bundle_dir) {
  return test_device(read_json(bundle_dir + "/bundle.json")["precision"].get<std::string>());
}

// index.json's "bundles": [{"dir", "family", "precision", "pooling"?, "checkpoint"}].
inline json test_bundles(const std::string& root) { return read_json(root + "/index.json")["bundles"]; }

}  // namespace cbir_test

// At the top of a test that needs the tiny bundles: returns, saying why, when they are absent.
#define CBIR_REQUIRE_TEST_MODELS(dir_var)                                                 \
  const std::string dir_var = cbir_test::test_models_dir();                               \
  if (dir_var.empty()) {                                                                  \
    WARN("SKIPPED: CBIR_TEST_MODELS is not set (ctest sets it after its make_test_models " \
         "fixture; by hand, point it at a make_test_models.py output folder)");          \
    return;                                                                               \
  }
