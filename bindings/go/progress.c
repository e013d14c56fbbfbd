// The ingest progress callback that cbir calls: forwards to the Go function with the
// cgo.Handle that ingest.go stored in the user pointer.
#include <stdint.h>

#include <cbir.h>

#include "_cgo_export.h"

int cbir_go_progress(void* user, const cbir_ingest_progress_t* progress) {
  return cbirGoProgress((uintptr_t)user, (cbir_ingest_progress_t*)progress);
}
