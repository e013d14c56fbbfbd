package cbir

/*
#include <stdlib.h>
#include <cbir.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Precision the towers compute in (CBIR_PRECISION_*). FP16 needs a CUDA device; BF16 a CUDA
// device or a CPU with bf16 instructions; AutoPrecision picks BF16 on such a CPU, else FP32
// (cbir.h). ModelInfo.ComputePrecision says what was chosen.
type Precision int32

const (
	FP32          Precision = 0
	FP16          Precision = 1
	BF16          Precision = 2
	AutoPrecision Precision = 3
)

// Towers says which towers OpenModel loads (CBIR_TOWER_*): an indexer needs no text tower, a
// text-search front end no image tower. A tower left out is not loaded, hashed or warmed up.
type Towers uint32

const (
	AllTowers  Towers = 0 // every tower the bundle has
	ImageTower Towers = 1
	TextTower  Towers = 2
)

// ModelOptions says how to open a model; nil or the zero value gives cbir's defaults
// (hashes verified, EXIF orientation applied, every tower loaded).
type ModelOptions struct {
	Device        string // "" or "auto", "cpu", "cuda", "cuda:N"
	Precision     Precision
	Threads       int    // > 0: compute threads for the whole process, split by precision (cbir.h)
	BatchSize     int    // images or texts per forward pass; 0 = cbir's default
	SkipHashCheck bool   // check file sizes only, not their sha256, when opening
	IgnoreEXIF    bool   // do not apply EXIF orientation
	FastDecode    bool   // decode large JPEGs at a reduced DCT scale (faster, inexact)
	MaxPixels     uint64 // refuse larger images; 0 = cbir's default
	Towers        Towers // which towers to load; AllTowers (0) = all
}

// ModelInfo says what a model is.
type ModelInfo struct {
	Name, Family, Fingerprint, Precision, Device, Path string
	Dim                                                int
	HasImage, HasText                                  bool
	ContextLength                                      int
	LogitScale                                         float32
	BatchSize, InputSide                               int
	ComputePrecision                                   string // "fp32", "bf16", "fp16" or "int8"
}

// Model is a model bundle, loaded: a folder made by tools/export, or the shipped
// models/tiny-bilingual. Any number of goroutines may use one Model at once; Close waits for
// the calls in flight, and later calls return ErrClosed.
type Model struct {
	mu   sync.RWMutex
	ptr  *C.cbir_model_t
	info ModelInfo
}

// OpenModel opens the bundle in folder path; opts may be nil.
func OpenModel(path string, opts *ModelOptions) (*Model, error) {
	if opts == nil {
		opts = &ModelOptions{}
	}
	cpath, device := C.CString(path), cString(opts.Device)
	defer C.free(unsafe.Pointer(cpath))
	defer C.free(unsafe.Pointer(device))
	var o C.cbir_model_options_t
	C.cbir_model_options_init(&o)
	o.device = device
	o.precision = C.int32_t(opts.Precision)
	o.threads, o.batch_size = C.int32_t(opts.Threads), C.int32_t(opts.BatchSize)
	o.verify_hashes = cBool(!opts.SkipHashCheck)
	o.exif_orientation = cBool(!opts.IgnoreEXIF)
	o.fast_decode = cBool(opts.FastDecode)
	o.max_pixels = C.uint64_t(opts.MaxPixels)
	o.towers = C.uint32_t(opts.Towers)
	m := &Model{}
	if err := call(func() C.int { return C.cbir_model_open(&m.ptr, cpath, &o) }); err != nil {
		return nil, err
	}
	var i C.cbir_model_info_t
	i.version = C.uint32_t(unsafe.Sizeof(i))
	if err := call(func() C.int { return C.cbir_model_info(&i, m.ptr) }); err != nil {
		C.cbir_model_close(m.ptr)
		return nil, err
	}
	m.info = ModelInfo{
		Name: C.GoString(i.name), Family: C.GoString(i.family),
		Fingerprint: C.GoString(i.fingerprint), Precision: C.GoString(i.precision),
		Device: C.GoString(i.device), Path: C.GoString(i.path), Dim: int(i.dim),
		HasImage: i.has_image != 0, HasText: i.has_text != 0,
		ContextLength: int(i.context_length), LogitScale: float32(i.logit_scale),
		BatchSize: int(i.batch_size), InputSide: int(i.input_side),
		ComputePrecision: C.GoString(i.compute_precision),
	}
	runtime.SetFinalizer(m, (*Model).Close)
	return m, nil
}

// Close releases the model. It is idempotent.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ptr != nil {
		C.cbir_model_close(m.ptr)
		m.ptr = nil
		runtime.SetFinalizer(m, nil)
	}
	return nil
}

// use runs f with the live handle, or returns ErrClosed.
func (m *Model) use(f func(p *C.cbir_model_t) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.ptr == nil {
		return closedError("model")
	}
	return f(m.ptr)
}

// Info says what the model is.
func (m *Model) Info() ModelInfo { return m.info }

// Dim is the number of floats per embedding.
func (m *Model) Dim() int { return m.info.Dim }

// Fingerprint is "sha256:<hex>"; collections remember it to refuse other models.
func (m *Model) Fingerprint() string { return m.info.Fingerprint }

// EmbedTexts embeds texts (Chinese or English) with the text tower: one L2-normalised
// vector per text.
func (m *Model) EmbedTexts(texts []string) ([][]float32, error) {
	out := make([]float32, len(texts)*m.Dim())
	cs := newCStrings(texts)
	defer cs.free()
	err := m.use(func(p *C.cbir_model_t) error {
		return call(func() C.int {
			return C.cbir_model_embed_texts(floatPtr(out), p, cs.ptr, C.size_t(len(texts)))
		})
	})
	if err != nil {
		return nil, err
	}
	return rows(out, m.Dim()), nil
}

// EmbedText embeds one text.
func (m *Model) EmbedText(text string) ([]float32, error) {
	v, err := m.EmbedTexts([]string{text})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// ImageEmbedding is one image's outcome in a batch: its L2-normalised Vector, or Err (an
// *Error: ErrImage for undecodable data, ErrNotFound for a missing file, naming its index).
type ImageEmbedding struct {
	Vector []float32
	Err    error
}

// EmbedImageFiles embeds image files with the image tower: one ImageEmbedding per path, in
// order. One bad image never fails the batch; the error returned is for the whole call
// (ErrUnsupported without an image tower, ErrClosed).
func (m *Model) EmbedImageFiles(paths []string) ([]ImageEmbedding, error) {
	cs := newCStrings(paths)
	defer cs.free()
	return m.embedImages(len(paths), func(p *C.cbir_model_t, out *C.float, st *C.int32_t) C.int {
		return C.cbir_model_embed_image_files(out, st, p, cs.ptr, C.size_t(len(paths)))
	})
}

// EmbedImageFile embeds one image file.
func (m *Model) EmbedImageFile(path string) ([]float32, error) {
	v, err := m.EmbedImageFiles([]string{path})
	if err != nil {
		return nil, err
	}
	return v[0].Vector, v[0].Err
}

// EmbedImageBuffers embeds encoded images in memory (JPEG, PNG, WebP, HEIC, ... as
// cbir_image_formats() lists for the linked libcbir): one ImageEmbedding per
// image, as EmbedImageFiles.
func (m *Model) EmbedImageBuffers(images [][]byte) ([]ImageEmbedding, error) {
	n := len(images)
	// cgo forbids handing C an array of Go pointers: the bytes are copied into C memory.
	data := make([]unsafe.Pointer, n)
	sizes := make([]C.size_t, n)
	for i, b := range images {
		data[i], sizes[i] = C.CBytes(b), C.size_t(len(b))
	}
	cdata := (*unsafe.Pointer)(C.malloc(C.size_t(max1(n)) * C.size_t(unsafe.Sizeof(unsafe.Pointer(nil)))))
	copy(unsafe.Slice(cdata, max1(n)), data)
	defer func() {
		for _, d := range data {
			C.free(d)
		}
		C.free(unsafe.Pointer(cdata))
	}()
	var psizes *C.size_t
	if n > 0 {
		psizes = &sizes[0]
	}
	return m.embedImages(n, func(p *C.cbir_model_t, out *C.float, st *C.int32_t) C.int {
		return C.cbir_model_embed_image_buffers(out, st, p, cdata, psizes, C.size_t(n))
	})
}

func (m *Model) embedImages(n int, f func(*C.cbir_model_t, *C.float, *C.int32_t) C.int) ([]ImageEmbedding, error) {
	out := make([]float32, n*m.Dim())
	statuses := make([]C.int32_t, max1(n))
	results := make([]ImageEmbedding, n)
	err := m.use(func(p *C.cbir_model_t) error {
		runtime.LockOSThread() // the item messages are per thread too
		defer runtime.UnlockOSThread()
		if err := call(func() C.int { return f(p, floatPtr(out), &statuses[0]) }); err != nil {
			return err
		}
		for i, row := range rows(out, m.Dim()) {
			if statuses[i] == 0 {
				results[i].Vector = row
				continue
			}
			msg := C.GoString(C.cbir_model_item_error(C.size_t(i)))
			results[i].Err = &Error{Code: int(statuses[i]), Message: fmt.Sprintf("image %d: %s", i, msg)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// Classify gives the zero-shot probability of each label (aligned with labels, summing to 1)
// for an image embedding.
func (m *Model) Classify(imageEmbedding []float32, labels []string) ([]float32, error) {
	if len(imageEmbedding) != m.Dim() {
		return nil, invalid("the image embedding has %d floats; the model's dim is %d",
			len(imageEmbedding), m.Dim())
	}
	probs := make([]float32, len(labels))
	cs := newCStrings(labels)
	defer cs.free()
	err := m.use(func(p *C.cbir_model_t) error {
		return call(func() C.int {
			return C.cbir_model_classify(floatPtr(probs), p, floatPtr(imageEmbedding), cs.ptr,
				C.size_t(len(labels)))
		})
	})
	if err != nil {
		return nil, err
	}
	return probs, nil
}

func cBool(b bool) C.int32_t {
	if b {
		return 1
	}
	return 0
}
