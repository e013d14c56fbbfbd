package cbir

// #include <stdint.h>
// #include <cbir.h>
import "C"

// cbirGoProgress is what progress.c's C callback calls (see ingest.go); a file with //export
// may only declare in its preamble, so it lives apart.
//
//export cbirGoProgress
func cbirGoProgress(handle C.uintptr_t, progress *C.cbir_ingest_progress_t) C.int {
	return goProgress(uintptr(handle), progress)
}

// cbirGoLog is what log.c's C callback calls (see log.go).
//
//export cbirGoLog
func cbirGoLog(handle C.uintptr_t, level C.int32_t, message *C.char) {
	goLog(uintptr(handle), int(level), C.GoString(message))
}
