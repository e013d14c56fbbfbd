package cbir

/*
#include <stdlib.h>
#include <cbir.h>
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

// CollectionOptions says how to open a collection; nil opens an existing one for writing.
type CollectionOptions struct {
	Create         bool   // create the collection when the folder holds none
	ReadOnly       bool   // no writer lock; see the writer's commits after Refresh
	Dim            int    // required to create; when opening, 0 accepts any
	Fingerprint    string // required to create; when opening, "" skips the check
	IndexSpec      string // when creating: "" (auto), "flat", "hnsw[:...]", "ivf[:...]", "faiss:..."
	MemoryBudgetMB uint64 // for "auto"; 0 = half of the physical memory
	Space          string // when creating: the first vector space's name ("" = "default")
}

// OptionsFor ties a collection to a model (its dim and fingerprint) and creates it when
// absent: opening a collection made with another model then fails with ErrMismatch.
func OptionsFor(m *Model) *CollectionOptions {
	return &CollectionOptions{Create: true, Dim: m.Dim(), Fingerprint: m.Fingerprint()}
}

// Item is a collection entry. As input to Add/Upsert only URI is required (ID is ignored).
type Item struct {
	ID          int64
	URI         string
	ContentHash string
	Size, MTime int64
	Width       int32
	Height      int32
	Payload     string // the caller's own data, e.g. JSON
}

// Hit is a search result: the item's id and uri and its cosine similarity to the query.
type Hit struct {
	ID    int64
	Score float32
	URI   string
}

// SearchOptions filters a search; nil means none.
type SearchOptions struct {
	MinScore  *float32 // results scoring below are dropped
	URIPrefix string   // only items whose uri starts with it
	IDs       []int64  // only these items (nil = all)
	EfSearch  int      // hnsw: efSearch for this call; 0 = the index's
	NProbe    int      // ivf: lists probed for this call; 0 = the index's
	Where     string   // a filter expression (docs/filters.md); "" = none
	Space     string   // the vector space searched ("" = the collection's first)
}

// CollectionInfo says what a collection is.
type CollectionInfo struct {
	Path, Fingerprint, IndexSpec, EffectiveSpec string
	Dim                                         int
	ReadOnly                                    bool
	Count, Masked                               uint64
	Seq, Generation                             int64
}

// Collection is a folder holding an SQLite catalog and a FAISS index. Searches and reads may
// run from many goroutines at once, also while one writes; cbir serialises the writes. Close
// waits for the calls in flight, and later calls return ErrClosed.
type Collection struct {
	mu  sync.RWMutex
	ptr *C.cbir_collection_t
	dim int
}

// OpenCollection opens (or with opts.Create makes) the collection in folder path.
func OpenCollection(path string, opts *CollectionOptions) (*Collection, error) {
	if opts == nil {
		opts = &CollectionOptions{}
	}
	cpath, fp, spec := C.CString(path), cString(opts.Fingerprint), cString(opts.IndexSpec)
	space := cString(opts.Space)
	defer C.free(unsafe.Pointer(cpath))
	defer C.free(unsafe.Pointer(fp))
	defer C.free(unsafe.Pointer(spec))
	defer C.free(unsafe.Pointer(space))
	var o C.cbir_collection_options_t
	C.cbir_collection_options_init_size(&o, C.size_t(unsafe.Sizeof(o)))
	o.space = space
	if opts.Create {
		o.flags |= C.CBIR_OPEN_CREATE
	}
	if opts.ReadOnly {
		o.flags |= C.CBIR_OPEN_READONLY
	}
	o.dim, o.fingerprint, o.index_spec = C.int32_t(opts.Dim), fp, spec
	o.memory_budget_mb = C.uint64_t(opts.MemoryBudgetMB)
	c := &Collection{}
	if err := call(func() C.int { return C.cbir_collection_open(&c.ptr, cpath, &o) }); err != nil {
		return nil, err
	}
	info, err := c.Info()
	if err != nil {
		C.cbir_collection_close(c.ptr)
		return nil, err
	}
	c.dim = info.Dim
	runtime.SetFinalizer(c, (*Collection).Close)
	return c, nil
}

func (c *Collection) use(f func(p *C.cbir_collection_t) C.int) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return closedError("collection")
	}
	return call(func() C.int { return f(c.ptr) })
}

// Close saves a writer's changes (returning any failure to save), then releases the handle.
// It is idempotent.
func (c *Collection) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return nil
	}
	var ro C.int32_t
	var info *C.cbir_collection_info_t
	err := call(func() C.int { return C.cbir_collection_info(&info, c.ptr) })
	if err == nil {
		ro = info.read_only
		C.cbir_free(unsafe.Pointer(info))
		if ro == 0 {
			err = call(func() C.int { return C.cbir_collection_save(c.ptr) })
		}
	}
	C.cbir_collection_close(c.ptr)
	c.ptr = nil
	runtime.SetFinalizer(c, nil)
	return err
}

// Dim is the number of floats per vector.
func (c *Collection) Dim() int { return c.dim }

// Info says what the collection is.
func (c *Collection) Info() (CollectionInfo, error) {
	var r CollectionInfo
	err := c.use(func(p *C.cbir_collection_t) C.int {
		var i *C.cbir_collection_info_t
		s := C.cbir_collection_info(&i, p)
		if s == 0 {
			r = CollectionInfo{
				Path: C.GoString(i.path), Fingerprint: C.GoString(i.fingerprint),
				IndexSpec: C.GoString(i.index_spec), EffectiveSpec: C.GoString(i.effective_spec),
				Dim: int(i.dim), ReadOnly: i.read_only != 0, Count: uint64(i.count),
				Masked: uint64(i.masked), Seq: int64(i.seq), Generation: int64(i.generation),
			}
			C.cbir_free(unsafe.Pointer(i))
		}
		return s
	})
	return r, err
}

// Count is the number of items.
func (c *Collection) Count() (uint64, error) {
	var n C.uint64_t
	err := c.use(func(p *C.cbir_collection_t) C.int { return C.cbir_collection_count(&n, p) })
	return uint64(n), err
}

// Add adds items with their vectors (one per item, Dim floats each) and returns the new ids.
// All or nothing: ErrExists when a uri is already there (see Upsert).
func (c *Collection) Add(items []Item, vectors [][]float32) ([]int64, error) {
	return c.write(false, items, vectors)
}

// Upsert is Add, except that an item whose uri exists is replaced, keeping its id.
func (c *Collection) Upsert(items []Item, vectors [][]float32) ([]int64, error) {
	return c.write(true, items, vectors)
}

func (c *Collection) write(upsert bool, items []Item, vectors [][]float32) ([]int64, error) {
	if len(items) != len(vectors) {
		return nil, invalid("%d items but %d vectors", len(items), len(vectors))
	}
	flat, err := c.flatten(vectors)
	if err != nil {
		return nil, err
	}
	n := len(items)
	raw, freeItems := cItems(items)
	defer freeItems()
	ids := make([]int64, max1(n))
	err = c.use(func(p *C.cbir_collection_t) C.int {
		if upsert {
			return C.cbir_collection_upsert(int64Ptr(ids), p, &raw[0], floatPtr(flat), C.size_t(n), C.size_t(c.dim))
		}
		return C.cbir_collection_add(int64Ptr(ids), p, &raw[0], floatPtr(flat), C.size_t(n), C.size_t(c.dim))
	})
	if err != nil {
		return nil, err
	}
	return ids[:n], nil
}

// cItems converts items to C (at least one slot, so &raw[0] is valid); free releases their
// strings. The items hold C strings only, so the array may live in Go memory.
func cItems(items []Item) (raw []C.cbir_item_t, free func()) {
	raw = make([]C.cbir_item_t, max1(len(items)))
	for i, it := range items {
		raw[i].uri, raw[i].content_hash = C.CString(it.URI), C.CString(it.ContentHash)
		raw[i].payload = C.CString(it.Payload)
		raw[i].size, raw[i].mtime = C.int64_t(it.Size), C.int64_t(it.MTime)
		raw[i].width, raw[i].height = C.int32_t(it.Width), C.int32_t(it.Height)
	}
	return raw, func() {
		for i := range items {
			C.free(unsafe.Pointer(raw[i].uri))
			C.free(unsafe.Pointer(raw[i].content_hash))
			C.free(unsafe.Pointer(raw[i].payload))
		}
	}
}

func (c *Collection) flatten(vectors [][]float32) ([]float32, error) {
	flat := make([]float32, 0, len(vectors)*c.dim)
	for i, v := range vectors {
		if len(v) != c.dim {
			return nil, &Error{Code: ErrMismatch.Code, Message: fmt.Sprintf(
				"vector %d has %d floats; the collection's dim is %d", i, len(v), c.dim)}
		}
		flat = append(flat, v...)
	}
	return flat, nil
}

// Remove removes the items with these ids and says how many existed.
func (c *Collection) Remove(ids []int64) (int, error) {
	var removed C.size_t
	err := c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_remove(&removed, p, int64Ptr(ids), C.size_t(len(ids)))
	})
	return int(removed), err
}

// RemoveURI removes the item with this uri (ErrNotFound if there is none).
func (c *Collection) RemoveURI(uri string) error {
	curi := C.CString(uri)
	defer C.free(unsafe.Pointer(curi))
	return c.use(func(p *C.cbir_collection_t) C.int { return C.cbir_collection_remove_uri(p, curi) })
}

// Get returns the item with this id (ErrNotFound if there is none).
func (c *Collection) Get(id int64) (Item, error) {
	var it Item
	err := c.use(func(p *C.cbir_collection_t) C.int {
		var r *C.cbir_item_t
		s := C.cbir_collection_get(&r, p, C.int64_t(id))
		if s == 0 {
			it = Item{ID: int64(r.id), URI: C.GoString(r.uri), ContentHash: C.GoString(r.content_hash),
				Size: int64(r.size), MTime: int64(r.mtime), Width: int32(r.width),
				Height: int32(r.height), Payload: C.GoString(r.payload)}
			C.cbir_free(unsafe.Pointer(r))
		}
		return s
	})
	return it, err
}

// Find returns the id of the item with this uri (ErrNotFound if there is none).
func (c *Collection) Find(uri string) (int64, error) {
	curi := C.CString(uri)
	defer C.free(unsafe.Pointer(curi))
	var id C.int64_t
	err := c.use(func(p *C.cbir_collection_t) C.int { return C.cbir_collection_find(&id, p, curi) })
	return int64(id), err
}

// Vector returns the stored, L2-normalised vector of an item.
func (c *Collection) Vector(id int64) ([]float32, error) {
	out := make([]float32, c.dim)
	err := c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_get_vector(floatPtr(out), C.size_t(c.dim), p, C.int64_t(id))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IDs returns every item id in increasing order.
func (c *Collection) IDs() ([]int64, error) {
	var all []int64
	page := make([]int64, 1024)
	after := int64(-1)
	for {
		var n C.size_t
		err := c.use(func(p *C.cbir_collection_t) C.int {
			return C.cbir_collection_list(int64Ptr(page), &n, p, C.int64_t(after), C.size_t(len(page)))
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return all, nil
		}
		all = append(all, page[:n]...)
		after = page[n-1]
	}
}

// searchOptions builds the C options in C memory (they point to the ids and the prefix, and
// cgo forbids Go memory holding Go pointers). free releases it all.
func searchOptions(o *SearchOptions) (opts *C.cbir_search_options_t, free func()) {
	opts = (*C.cbir_search_options_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.cbir_search_options_t{}))))
	C.cbir_search_options_init_size(opts, C.size_t(unsafe.Sizeof(*opts)))
	var prefix, where, space *C.char
	var ids unsafe.Pointer
	if o != nil {
		if o.MinScore != nil {
			opts.min_score = C.float(*o.MinScore)
		}
		prefix = cString(o.URIPrefix)
		opts.uri_prefix = prefix
		if o.IDs != nil {
			ids = C.malloc(C.size_t(max1(len(o.IDs)) * 8))
			copy(unsafe.Slice((*int64)(ids), max1(len(o.IDs))), o.IDs)
			opts.ids, opts.n_ids = (*C.int64_t)(ids), C.size_t(len(o.IDs))
		}
		opts.ef_search, opts.nprobe = C.int32_t(o.EfSearch), C.int32_t(o.NProbe)
		where = cString(o.Where)
		opts.where = where
		space = cString(o.Space)
		opts.space = space
	}
	return opts, func() {
		C.free(unsafe.Pointer(prefix))
		C.free(unsafe.Pointer(where))
		C.free(unsafe.Pointer(space))
		C.free(ids)
		C.free(unsafe.Pointer(opts))
	}
}

// Search returns the k items most similar to query (Dim floats), best first.
func (c *Collection) Search(query []float32, k int, opts *SearchOptions) ([]Hit, error) {
	if err := c.checkQuery(query, opts); err != nil {
		return nil, err
	}
	if k <= 0 {
		return nil, invalid("k must be at least 1, not %d", k)
	}
	o, free := searchOptions(opts)
	defer free()
	ids, scores := make([]int64, k), make([]float32, k)
	err := c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_search(int64Ptr(ids), floatPtr(scores), p, floatPtr(query), 1,
			C.size_t(len(query)), C.size_t(k), o)
	})
	if err != nil {
		return nil, err
	}
	return c.hits(ids, scores)
}

// SearchSimilar ("more like this") returns the k items most similar to stored item id,
// leaving the item itself out.
func (c *Collection) SearchSimilar(id int64, k int, opts *SearchOptions) ([]Hit, error) {
	if k <= 0 {
		return nil, invalid("k must be at least 1, not %d", k)
	}
	o, free := searchOptions(opts)
	defer free()
	ids, scores := make([]int64, k), make([]float32, k)
	err := c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_search_similar(int64Ptr(ids), floatPtr(scores), p, C.int64_t(id), C.size_t(k), o)
	})
	if err != nil {
		return nil, err
	}
	return c.hits(ids, scores)
}

// RangeSearch returns every item scoring at least minScore against query, best first.
func (c *Collection) RangeSearch(query []float32, minScore float32, opts *SearchOptions) ([]Hit, error) {
	if err := c.checkQuery(query, opts); err != nil {
		return nil, err
	}
	o, free := searchOptions(opts)
	defer free()
	var ids []int64
	var scores []float32
	err := c.use(func(p *C.cbir_collection_t) C.int {
		var pi *C.int64_t
		var ps *C.float
		var n C.size_t
		s := C.cbir_collection_range_search(&pi, &ps, &n, p, floatPtr(query), C.size_t(len(query)), C.float(minScore), o)
		if s == 0 && n > 0 {
			ids = append(ids, unsafe.Slice((*int64)(unsafe.Pointer(pi)), int(n))...)
			scores = append(scores, unsafe.Slice((*float32)(unsafe.Pointer(ps)), int(n))...)
		}
		C.cbir_free(unsafe.Pointer(pi))
		C.cbir_free(unsafe.Pointer(ps))
		return s
	})
	if err != nil {
		return nil, err
	}
	return c.hits(ids, scores)
}

// checkQuery checks a query for the first space against its dim; the library checks another
// space's (it knows that dim).
func (c *Collection) checkQuery(query []float32, opts *SearchOptions) error {
	if len(query) == 0 {
		return invalid("the query must not be empty")
	}
	if opts != nil && opts.Space != "" {
		return nil
	}
	_, err := c.flatten([][]float32{query})
	return err
}

func (c *Collection) hits(ids []int64, scores []float32) ([]Hit, error) {
	var out []Hit
	for i, id := range ids {
		if id == -1 || math.IsInf(float64(scores[i]), 0) {
			continue
		}
		it, err := c.Get(id)
		if err != nil {
			return nil, err
		}
		out = append(out, Hit{ID: id, Score: scores[i], URI: it.URI})
	}
	return out, nil
}

// Commit makes every change so far durable.
func (c *Collection) Commit() error {
	return c.use(func(p *C.cbir_collection_t) C.int { return C.cbir_collection_commit(p) })
}

// Save commits, then writes the index snapshot so the next open does not replay.
func (c *Collection) Save() error {
	return c.use(func(p *C.cbir_collection_t) C.int { return C.cbir_collection_save(p) })
}

// Refresh lets a read-only handle take in what the writer committed since.
func (c *Collection) Refresh() error {
	return c.use(func(p *C.cbir_collection_t) C.int { return C.cbir_collection_refresh(p) })
}

// Rebuild rebuilds the index from the stored vectors; spec "" keeps the current kind.
func (c *Collection) Rebuild(spec string) error {
	cspec := cString(spec)
	defer C.free(unsafe.Pointer(cspec))
	return c.use(func(p *C.cbir_collection_t) C.int { return C.cbir_collection_rebuild(p, cspec) })
}

// Compact purges removed vectors from the index and checkpoints the catalog.
func (c *Collection) Compact() error {
	return c.use(func(p *C.cbir_collection_t) C.int { return C.cbir_collection_compact(p) })
}

// Verify checks catalog and index (ErrCorrupt says what is wrong).
func (c *Collection) Verify() error {
	return c.use(func(p *C.cbir_collection_t) C.int { return C.cbir_collection_verify(p) })
}
