#include "model/cpu_features.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif

namespace cbir::model {
namespace {

#if defined(__x86_64__) && defined(__GNUC__)
CpuFeatures detect() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return f;
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const unsigned long long xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  const bool ymm = (xcr0 & 0x6) == 0x6;              // SSE and AVX state
  const bool zmm = ymm && (xcr0 & 0xE0) == 0xE0;     // opmask, upper ZMM, ZMM16-31
  const bool tiles = (xcr0 & 0x60000) == 0x60000;    // AMX tile config and data
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const unsigned max_sub = a;
  f.avx2 = ymm && (b & (1u << 5));
  f.avx512f = zmm && (b & (1u << 16));
  f.avx512_vnni = f.avx512f && (c & (1u << 11));
  f.amx_bf16 = tiles && (d & (1u << 22)) && (d & (1u << 24));
  f.amx_int8 = tiles && (d & (1u << 25)) && (d & (1u << 24));
  if (max_sub >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    f.avx_vnni = ymm && (a & (1u << 4));
    f.avx512_bf16 = f.avx512f && (a & (1u << 5));
  }
  return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

bool cpu_native_bf16() {
  const char* env = std::getenv("CBIR_CPU_BF16");
  if (env && std::strcmp(env, "0") == 0) return false;
  return cpu_features().avx512_bf16 || cpu_features().amx_bf16;
}

std::string cpu_features_string() {
  const CpuFeatures& f = cpu_features();
  const std::pair<bool, const char*> named[] = {
      {f.avx2, "avx2"},         {f.avx512f, "avx512f"},   {f.avx512_vnni, "avx512_vnni"},
      {f.avx512_bf16, "avx512_bf16"}, {f.avx_vnni, "avx_vnni"}, {f.amx_bf16, "amx_bf16"},
      {f.amx_int8, "amx_int8"}};
  std::string s;
  for (const auto& [present, name] : named)
    if (present) s += (s.empty() ? "" : " ") + std::string(name);
  return s;
}

}  // namespace cbir::model
