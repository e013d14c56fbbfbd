package cbir

/*
#include <stdlib.h>
#include <cbir.h>
*/
import "C"

import (
	"sync"
	"unsafe"
)

// Tokenizer is Chinese-CLIP's WordPiece tokenizer over a vocabulary: what a text query
// becomes. OpenTokenizer gives one to Close; Model.Tokenizer lends the model's own, which is
// closed with the model. Any number of goroutines may use one at once.
type Tokenizer struct {
	mu    sync.RWMutex
	ptr   *C.cbir_tokenizer_t
	model *Model // the owner of a lent tokenizer; nil for an opened one
}

// Tokens are tokenized texts: IDs[i] holds contextLength ids ([CLS], word pieces, [SEP],
// [PAD]...), Lengths[i] how many of them are not padding.
type Tokens struct {
	IDs     [][]int64
	Lengths []int
}

// OpenTokenizer opens a vocab.txt, or a folder holding one (a model bundle); lowerCase false
// keeps case and accents. Errors: ErrNotFound, ErrIO, ErrCorrupt.
func OpenTokenizer(vocabPath string, lowerCase bool) (*Tokenizer, error) {
	cpath := C.CString(vocabPath)
	defer C.free(unsafe.Pointer(cpath))
	var opts C.cbir_tokenizer_options_t
	C.cbir_tokenizer_options_init(&opts)
	opts.lower_case = cBool(lowerCase)
	var ptr *C.cbir_tokenizer_t
	if err := call(func() C.int { return C.cbir_tokenizer_open(&ptr, cpath, &opts) }); err != nil {
		return nil, err
	}
	return &Tokenizer{ptr: ptr}, nil
}

// Tokenizer lends the bundle's own tokenizer (its vocab.txt and lower-casing), usable until
// the model is closed. Errors: ErrUnsupported without a text tower.
func (m *Model) Tokenizer() (*Tokenizer, error) {
	var ptr *C.cbir_tokenizer_t
	err := m.use(func(p *C.cbir_model_t) error {
		return call(func() C.int {
			return C.cbir_model_tokenizer((**C.cbir_tokenizer_t)(unsafe.Pointer(&ptr)), p)
		})
	})
	if err != nil {
		return nil, err
	}
	return &Tokenizer{ptr: ptr, model: m}, nil
}

// use runs f with the tokenizer, holding the owning model open for a lent one.
func (t *Tokenizer) use(f func(p *C.cbir_tokenizer_t) error) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.ptr == nil {
		return closedError("tokenizer")
	}
	if t.model == nil {
		return f(t.ptr)
	}
	return t.model.use(func(*C.cbir_model_t) error { return f(t.ptr) })
}

// VocabSize is the number of tokens (ids run from 0 to VocabSize()-1); 0 once closed.
func (t *Tokenizer) VocabSize() int {
	n := 0
	t.use(func(p *C.cbir_tokenizer_t) error {
		n = int(C.cbir_tokenizer_vocab_size(p))
		return nil
	})
	return n
}

// Token is the text of a token id ("[CLS]", "##ing"); ok is false when id is out of range.
func (t *Tokenizer) Token(id int64) (token string, ok bool) {
	t.use(func(p *C.cbir_tokenizer_t) error {
		if s := C.cbir_tokenizer_token(p, C.int64_t(id)); s != nil {
			token, ok = C.GoString(s), true
		}
		return nil
	})
	return token, ok
}

// Tokenize is Chinese-CLIP's tokenize(texts, contextLength). Errors: ErrInvalid
// (contextLength below 2), ErrClosed.
func (t *Tokenizer) Tokenize(texts []string, contextLength int) (Tokens, error) {
	if contextLength < 0 {
		return Tokens{}, invalid("contextLength must be at least 2, not %d", contextLength)
	}
	cs := newCStrings(texts)
	defer cs.free()
	ids := make([]int64, max1(len(texts)*contextLength))
	lengths := make([]C.int32_t, max1(len(texts)))
	err := t.use(func(p *C.cbir_tokenizer_t) error {
		return call(func() C.int {
			return C.cbir_tokenize((*C.int64_t)(unsafe.Pointer(&ids[0])), &lengths[0], p, cs.ptr,
				C.size_t(len(texts)), C.size_t(contextLength))
		})
	})
	if err != nil {
		return Tokens{}, err
	}
	out := Tokens{IDs: make([][]int64, len(texts)), Lengths: make([]int, len(texts))}
	for i := range texts {
		out.IDs[i] = ids[i*contextLength : (i+1)*contextLength : (i+1)*contextLength]
		out.Lengths[i] = int(lengths[i])
	}
	return out, nil
}

// Tokens gives the word pieces of one text, without [CLS], [SEP] and padding (up to 510).
func (t *Tokenizer) Tokens(text string) ([]string, error) {
	r, err := t.Tokenize([]string{text}, 512)
	if err != nil {
		return nil, err
	}
	words := make([]string, 0, r.Lengths[0]-2)
	for _, id := range r.IDs[0][1 : r.Lengths[0]-1] {
		w, _ := t.Token(id)
		words = append(words, w)
	}
	return words, nil
}

// Close releases an opened tokenizer (a lent one only stops being usable). Idempotent.
func (t *Tokenizer) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ptr != nil && t.model == nil {
		C.cbir_tokenizer_close(t.ptr)
	}
	t.ptr = nil
	return nil
}
