// Helpers shared by the fuzz targets: reading structured values from the fuzz input and a
// scratch folder per process.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

namespace cbir::fuzz {

// Takes values off the front of the input; past the end everything reads as zero/empty, so
// any input is a valid program.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), left_(size) {}
  bool empty() const { return left_ == 0; }
  size_t left() const { return left_; }
  uint8_t u8() {
    if (left_ == 0) return 0;
    --left_;
    return *p_++;
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{u8()} << (8 * i);
    return v;
  }
  float f32() {
    uint32_t bits = u32();
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  // Up to `max` bytes, its length taken from the input.
  std::string bytes(size_t max) {
    size_t n = u8();
    if (n > max) n = max;
    if (n > left_) n = left_;
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    left_ -= n;
    return s;
  }
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(p_), left_);
    p_ += left_;
    left_ = 0;
    return s;
  }

 private:
  const uint8_t* p_;
  size_t left_;
};

// A folder of this process's own under $TMPDIR, removed at exit. (Held by a pointer that is
// never freed, so the exit handler still finds the name after static strings are destroyed.)
inline const std::string& scratch_dir() {
  static const std::string* dir = [] {
    const char* tmp = getenv("TMPDIR");
    auto* name = new std::string(std::string(tmp && *tmp ? tmp : "/tmp") + "/cbir-fuzz-XXXXXX");
    if (!mkdtemp(name->data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return name;
  }();
  return *dir;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::perror(path.c_str());
    std::abort();
  }
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) std::abort();
  std::fclose(f);
}

}  // namespace cbir::fuzz
