package cbir

/*
#include <stdint.h>
#include <stdlib.h>
#include <cbir.h>

int cbir_go_progress(void* user, const cbir_ingest_progress_t* progress); // progress.c

// The callback's user pointer carries a cgo.Handle (an integer), never a Go pointer.
static void cbir_go_set_progress(cbir_ingest_options_t* o, uintptr_t handle) {
	o->progress = cbir_go_progress;
	o->progress_user = (void*)handle;
}
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// Progress says where an ingest run stands; the callback gets it after every batch.
type Progress struct {
	Done, Total, Added, Failed uint64
	Seconds                    float64
	Rate                       float64 // files per second
	ETASeconds                 float64 // -1 while unknown
}

// IngestOptions says how to ingest; nil or the zero value gives cbir's defaults.
type IngestOptions struct {
	NoRecurse      bool   // folders: do not descend into sub-folders
	FollowSymlinks bool   // folders: follow symbolic links
	Extensions     string // folders: comma-separated extensions; "" = cbir's image extensions
	Workers        int    // decoding threads; 0 = one per core
	CommitEvery    int    // commit after this many written items; 0 = cbir's default
	Prune          bool   // folders: remove items under the folder whose files are gone
	FastDecode     bool   // decode large JPEGs at a reduced DCT scale (faster, inexact)
	// Progress is called on the ingesting goroutine after every batch; returning false cancels
	// the run (what was done is kept, and the report says Cancelled). A panic cancels the run
	// and is raised again once cbir has returned.
	Progress func(Progress) bool
}

// Failure is a file that could not be indexed, and why.
type Failure struct {
	Path string
	Err  *Error
}

// IngestReport is the outcome of an ingest run.
type IngestReport struct {
	Found, Added, Updated, Unchanged, Duplicates, Failed, Removed uint64
	Cancelled                                                     bool
	Seconds                                                       float64
	Failures                                                      []Failure
}

type progressState struct {
	fn    func(Progress) bool
	panic interface{}
}

func goProgress(handle uintptr, p *C.cbir_ingest_progress_t) (ret C.int) {
	st := cgo.Handle(handle).Value().(*progressState)
	if st.panic != nil {
		return 1
	}
	// A panic must not unwind through C: keep it, cancel, and raise it on the Go side.
	defer func() {
		if r := recover(); r != nil {
			st.panic, ret = r, 1
		}
	}()
	goOn := st.fn(Progress{Done: uint64(p.done), Total: uint64(p.total), Added: uint64(p.added),
		Failed: uint64(p.failed), Seconds: float64(p.seconds), Rate: float64(p.rate),
		ETASeconds: float64(p.eta_seconds)})
	if goOn {
		return 0
	}
	return 1
}

// IngestDir indexes the image files under folder dir with the model's image tower. Unchanged
// files are skipped; files that cannot be decoded are listed in the report's Failures and never
// stop the run. Errors: ErrNotFound (no such folder), ErrMismatch (the collection was made with
// another model), ErrUnsupported (read-only), ErrInvalid, ErrIO, ErrModel.
func (c *Collection) IngestDir(m *Model, dir string, opts *IngestOptions) (*IngestReport, error) {
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	return c.ingest(m, opts, func(r **C.cbir_ingest_report_t, p *C.cbir_collection_t, mp *C.cbir_model_t, o *C.cbir_ingest_options_t) C.int {
		return C.cbir_ingest_dir(r, p, mp, cdir, o)
	})
}

// IngestFiles indexes these image files (no extension filter); a missing file is a per-file
// failure.
func (c *Collection) IngestFiles(m *Model, paths []string, opts *IngestOptions) (*IngestReport, error) {
	cs := newCStrings(paths)
	defer cs.free()
	return c.ingest(m, opts, func(r **C.cbir_ingest_report_t, p *C.cbir_collection_t, mp *C.cbir_model_t, o *C.cbir_ingest_options_t) C.int {
		return C.cbir_ingest_files(r, p, mp, cs.ptr, C.size_t(len(paths)), o)
	})
}

type ingestCall func(**C.cbir_ingest_report_t, *C.cbir_collection_t, *C.cbir_model_t, *C.cbir_ingest_options_t) C.int

func (c *Collection) ingest(m *Model, opts *IngestOptions, f ingestCall) (*IngestReport, error) {
	if opts == nil {
		opts = &IngestOptions{}
	}
	// In C memory: the options point to the extensions string.
	o := (*C.cbir_ingest_options_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.cbir_ingest_options_t{}))))
	defer C.free(unsafe.Pointer(o))
	C.cbir_ingest_options_init(o)
	ext := cString(opts.Extensions)
	defer C.free(unsafe.Pointer(ext))
	o.recursive, o.follow_symlinks = cBool(!opts.NoRecurse), cBool(opts.FollowSymlinks)
	o.extensions, o.workers, o.commit_every = ext, C.int32_t(opts.Workers), C.int32_t(opts.CommitEvery)
	o.prune, o.fast_decode = cBool(opts.Prune), cBool(opts.FastDecode)
	var state *progressState
	if opts.Progress != nil {
		state = &progressState{fn: opts.Progress}
		h := cgo.NewHandle(state)
		defer h.Delete()
		C.cbir_go_set_progress(o, C.uintptr_t(h))
	}
	var report *IngestReport
	err := m.use(func(mp *C.cbir_model_t) error {
		return c.use(func(p *C.cbir_collection_t) C.int {
			var r *C.cbir_ingest_report_t
			s := f(&r, p, mp, o)
			if s == 0 {
				report, s = readReport(r)
			}
			C.cbir_ingest_report_free(r)
			return s
		})
	})
	if state != nil && state.panic != nil {
		panic(state.panic)
	}
	if err != nil {
		return nil, err
	}
	return report, nil
}

func readReport(r *C.cbir_ingest_report_t) (*IngestReport, C.int) {
	var s C.cbir_ingest_summary_t
	s.version = C.uint32_t(unsafe.Sizeof(s))
	if status := C.cbir_ingest_report_summary(&s, r); status != 0 {
		return nil, status
	}
	rep := &IngestReport{Found: uint64(s.found), Added: uint64(s.added), Updated: uint64(s.updated),
		Unchanged: uint64(s.unchanged), Duplicates: uint64(s.duplicates), Failed: uint64(s.failed),
		Removed: uint64(s.removed), Cancelled: s.cancelled != 0, Seconds: float64(s.seconds)}
	n := int(C.cbir_ingest_report_failures(r))
	for i := 0; i < n; i++ {
		var path, msg *C.char
		var code C.int32_t
		if status := C.cbir_ingest_report_failure(r, C.size_t(i), &path, &code, &msg); status != 0 {
			return nil, status
		}
		rep.Failures = append(rep.Failures, Failure{Path: C.GoString(path),
			Err: &Error{Code: int(code), Message: C.GoString(msg)}})
	}
	return rep, 0
}
