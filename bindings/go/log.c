// The log callback that cbir calls: forwards to the Go handler whose cgo.Handle log.go stored
// in the user pointer.
#include <stdint.h>

#include <cbir.h>

#include "_cgo_export.h"

void cbir_go_log(void* user, int32_t level, const char* message) {
  cbirGoLog((uintptr_t)user, level, (char*)message);
}
