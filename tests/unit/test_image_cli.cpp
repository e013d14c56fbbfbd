// `cbir preprocess`, run as a user runs it: the golden pixels in the file, "HEIGHT WIDTH" on
// stdout, and for a bad image one error line and exit status 1.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "golden.hpp"

namespace {

struct Run {
  int status;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A scratch path of this process (build trees may run their tests at the same time).
std::string scratch(const std::string& what) {
  return std::filesystem::temp_directory_path().string() + "/cbir_cli_test_" +
         std::to_string(getpid()) + "." + what;
}

Run cbir(const std::string& args) {
  const std::string out = scratch("out"), err = scratch("err");
  const int raw = std::system((std::string(CBIR_CLI) + " preprocess " + args + " >" + out + " 2>" + err).c_str());
  Run r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(out), slurp(err)};
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace

TEST_CASE("cbir preprocess writes the golden pixels and prints their size") {
  CBIR_REQUIRE_GOLDEN(dir);
  const std::string pixels = scratch("rgb");
  Run r = cbir("--out " + pixels + " " + dir + "/images/photo_progressive_500x375.jpg");
  CHECK(r.status == 0);
  CHECK(r.out == "224 224\n");
  CHECK(slurp(pixels) == slurp(dir + "/preprocess/photo_progressive_500x375.jpg.clip224.rgb"));

  r = cbir("--transform shorter_side_then_center_crop --size 256 --crop 224 --out " + pixels + " " +
           dir + "/images/tall_90x700.png");
  CHECK(r.status == 0);
  CHECK(slurp(pixels) == slurp(dir + "/preprocess/tall_90x700.png.dino224.rgb"));

  r = cbir("--size 32 --crop 16 --transform shorter_side_then_center_crop --out " + pixels + " " +
           dir + "/images/wide_257x129.png");
  CHECK(r.out == "16 16\n");
  CHECK(slurp(pixels).size() == 16 * 16 * 3);
  std::filesystem::remove(pixels);
}

TEST_CASE("cbir preprocess: one error line for a bad image, usage errors apart") {
  CBIR_REQUIRE_GOLDEN(dir);
  const std::string bad = dir + "/bad/truncated_half.jpg";
  Run r = cbir("--out /dev/null " + bad);
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("cbir: error: " + bad + ": ", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);  // exactly one line

  CHECK(cbir("--transform stretch --out /dev/null " + bad).status == 2);
  CHECK(cbir("--size 0 --out /dev/null " + bad).status == 2);
  r = cbir(dir + "/images/tiny_5x3.png");  // --out missing
  CHECK(r.status == 2);
  CHECK(r.err.find("--out") != std::string::npos);
}
