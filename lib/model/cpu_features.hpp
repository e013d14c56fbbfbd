// What this CPU computes natively, as cpuid says and the OS enables. Read once, at first use.
// It decides CBIR_PRECISION_AUTO: bf16 only where the hardware has bf16 dot products, since
// LibTorch's oneDNN otherwise emulates bf16 several times slower than fp32.
#pragma once

#include <string>

namespace cbir::model {

struct CpuFeatures {
  bool avx2 = false;
  bool avx512f = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;  // AVX512-BF16: vdpbf16ps (Cooper Lake, Sapphire Rapids, Zen 4+)
  bool avx_vnni = false;
  bool amx_bf16 = false;     // AMX tiles with bf16 (Sapphire Rapids and later)
  bool amx_int8 = false;
};

// The features, each only when the OS also saves the registers it needs (XCR0). All false on a
// CPU that is not x86-64.
const CpuFeatures& cpu_features();

// Whether bf16 matrix products run in hardware here (AVX512-BF16 or AMX-BF16). The environment
// variable CBIR_CPU_BF16=0 makes it false (to compare, or to test the fallback).
bool cpu_native_bf16();

// The features that are present, space-separated ("avx2 avx512f avx512_vnni avx512_bf16 ...");
// "" when none.
std::string cpu_features_string();

}  // namespace cbir::model
