// Package cbir is the Go binding of libcbir, an embeddable content-based image retrieval
// library (Chinese-CLIP and DINOv2 through LibTorch, FAISS indexes, an SQLite catalog).
//
// Open a Model (a bundle folder) and a Collection (a folder), ingest images, and search them by
// text in Chinese or English, by image, or by a stored item. Every fallible call returns an
// error (an *Error carrying cbir's status code and message); Close releases a handle, and a
// closed handle returns ErrClosed.
//
// The library is found with pkg-config (package cbir): set PKG_CONFIG_PATH to the folder
// holding cbir.pc for a non-system prefix, or CGO_CFLAGS / CGO_LDFLAGS by hand.
package cbir

/*
#cgo pkg-config: cbir
#include <stdlib.h>
#include <cbir.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Error is a failed cbir call: a CBIR_E* status code and cbir's message, which names the
// file or argument at fault.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%s)", e.Message, C.GoString(C.cbir_status_str(C.int(e.Code))))
}

// Is lets errors.Is match an *Error against the sentinels below by code; ErrImage matches
// every CBIR_EIMAGE_* code.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	if t == ErrImage {
		return e.Code <= -20 && e.Code >= -25
	}
	return t.Code == e.Code
}

// Sentinels for errors.Is, one per status code of cbir.h.
var (
	ErrInvalid     = &Error{Code: -1, Message: "invalid argument"}
	ErrNoMemory    = &Error{Code: -2, Message: "out of memory"}
	ErrIO          = &Error{Code: -3, Message: "input/output error"}
	ErrNotFound    = &Error{Code: -4, Message: "not found"}
	ErrExists      = &Error{Code: -5, Message: "already exists"}
	ErrCorrupt     = &Error{Code: -6, Message: "data is corrupt"}
	ErrMismatch    = &Error{Code: -7, Message: "model and collection do not match"}
	ErrLocked      = &Error{Code: -8, Message: "collection is locked"}
	ErrUnsupported = &Error{Code: -9, Message: "not supported"}
	ErrCancelled   = &Error{Code: -10, Message: "cancelled"}
	ErrModel       = &Error{Code: -11, Message: "model error"}
	ErrClosed      = &Error{Code: -12, Message: "handle is closed"}
	// ErrImage matches any CBIR_EIMAGE_* code (format, truncated, corrupt, dimensions, ...).
	ErrImage    = &Error{Code: -20, Message: "image cannot be decoded"}
	ErrInternal = &Error{Code: -99, Message: "internal error"}
)

// call runs one C call and fetches its error on the same OS thread: cbir_last_error() is
// per thread, and without the lock the goroutine could move between the two.
func call(f func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if status := f(); status != 0 {
		return &Error{Code: int(status), Message: C.GoString(C.cbir_last_error())}
	}
	return nil
}

func closedError(what string) error {
	return &Error{Code: ErrClosed.Code, Message: "the " + what + " is closed"}
}

func invalid(format string, args ...interface{}) error {
	return &Error{Code: ErrInvalid.Code, Message: fmt.Sprintf(format, args...)}
}

// LibraryVersion is the version of the linked libcbir, "MAJOR.MINOR.PATCH".
func LibraryVersion() string { return C.GoString(C.cbir_version_string()) }

// BuildInfo is one line describing the library's build (LibTorch, FAISS, CUDA, threads).
func BuildInfo() string { return C.GoString(C.cbir_build_info()) }

// SetThreads sets the threads of the library's compute kernels (LibTorch, OpenMP, OpenBLAS),
// process-wide; 0 = one per core.
func SetThreads(threads int) error {
	return call(func() C.int { return C.cbir_set_threads(C.int32_t(threads)) })
}

// SetMallocReuse sets whether glibc's malloc keeps large blocks for reuse, process-wide
// (cbir_set_malloc_reuse in cbir.h: on by default once a CPU model opens; several times faster
// inference, resident memory stays near its peak).
func SetMallocReuse(on bool) error {
	v := C.int32_t(0)
	if on {
		v = 1
	}
	return call(func() C.int { return C.cbir_set_malloc_reuse(v) })
}

// cStrings is a C array of C strings; free releases both.
type cStrings struct {
	ptr **C.char
	n   int
}

func newCStrings(strs []string) cStrings {
	if len(strs) == 0 {
		return cStrings{}
	}
	arr := (**C.char)(C.malloc(C.size_t(len(strs)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	s := unsafe.Slice(arr, len(strs))
	for i, str := range strs {
		s[i] = C.CString(str)
	}
	return cStrings{arr, len(strs)}
}

func (c cStrings) free() {
	if c.ptr == nil {
		return
	}
	for _, p := range unsafe.Slice(c.ptr, c.n) {
		C.free(unsafe.Pointer(p))
	}
	C.free(unsafe.Pointer(c.ptr))
}

// cString is C.CString, or NULL for "".
func cString(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

func floatPtr(v []float32) *C.float {
	if len(v) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&v[0]))
}

func int64Ptr(v []int64) *C.int64_t {
	if len(v) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&v[0]))
}

func rows(flat []float32, dim int) [][]float32 {
	out := make([][]float32, 0, len(flat)/max1(dim))
	for i := 0; i+dim <= len(flat) && dim > 0; i += dim {
		out = append(out, flat[i:i+dim:i+dim])
	}
	return out
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}
