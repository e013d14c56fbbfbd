// glibc's malloc, tuned for tensor work (see cbir_set_malloc_reuse in cbir.h for the why).
#pragma once

namespace cbir::model {

// Large blocks (up to 32 MiB) from the heap, freed memory kept; false restores glibc's initial
// thresholds and trims the heap. Records that the process has chosen. CBIR_EUNSUPPORTED where
// malloc is not glibc's or refuses the setting.
void set_malloc_reuse(bool on);
// Called by Model::open for CPU models: turns reuse on unless the process chose already (an
// earlier set_malloc_reuse, or glibc's MALLOC_* / GLIBC_TUNABLES malloc settings in the
// environment). Never fails.
void default_malloc_reuse();

}  // namespace cbir::model
