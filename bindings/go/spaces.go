package cbir

/*
#include <stdlib.h>
#include <string.h>
#include <cbir.h>
*/
import "C"

import (
	"unsafe"
)

// SpaceInfo describes one vector space of a collection: another model's vectors of the same
// items, beside the first model's, with an index of its own.
type SpaceInfo struct {
	Name, Fingerprint, IndexSpec, EffectiveSpec string
	Dim                                         int
	First                                       bool   // the collection's first space
	Count                                       uint64 // items with a vector in this space
	Generation                                  int64
}

// SpaceVectors are the vectors (one per item) of one space for AddSpaces; Space "" is the
// collection's first.
type SpaceVectors struct {
	Space   string
	Vectors [][]float32
}

// AddSpace adds an empty vector space named name (1 to 32 of a-z, 0-9, '_', '-') for dim-float
// vectors of the model with fingerprint, committed at once. ErrExists when the name is taken.
func (c *Collection) AddSpace(name string, dim int, fingerprint, indexSpec string) error {
	cname, cfp, cspec := C.CString(name), C.CString(fingerprint), cString(indexSpec)
	defer C.free(unsafe.Pointer(cname))
	defer C.free(unsafe.Pointer(cfp))
	defer C.free(unsafe.Pointer(cspec))
	return c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_add_space(p, cname, C.int32_t(dim), cfp, cspec)
	})
}

// Spaces lists every vector space, the first one first.
func (c *Collection) Spaces() ([]SpaceInfo, error) {
	var out []SpaceInfo
	err := c.use(func(p *C.cbir_collection_t) C.int {
		var raw *C.cbir_space_info_t
		var n C.size_t
		s := C.cbir_collection_spaces(&raw, &n, p)
		if s != 0 {
			return s
		}
		defer C.cbir_free(unsafe.Pointer(raw))
		for _, r := range unsafe.Slice(raw, int(n)) {
			out = append(out, SpaceInfo{
				Name: C.GoString(r.name), Fingerprint: C.GoString(r.fingerprint),
				IndexSpec: C.GoString(r.index_spec), EffectiveSpec: C.GoString(r.effective_spec),
				Dim: int(r.dim), First: r.first != 0, Count: uint64(r.count), Generation: int64(r.generation),
			})
		}
		return 0
	})
	return out, err
}

// AddSpaces adds (or with upsert, replaces) items with their vectors in several spaces at once,
// the first space's included. All or nothing; an upserted item leaves the spaces not given.
func (c *Collection) AddSpaces(items []Item, spaces []SpaceVectors, upsert bool) ([]int64, error) {
	n := len(items)
	// In C memory: the array holds pointers to the vectors, which cgo forbids in Go memory.
	raw := (*C.cbir_space_vectors_t)(C.calloc(C.size_t(max1(len(spaces))), C.size_t(unsafe.Sizeof(C.cbir_space_vectors_t{}))))
	slots := unsafe.Slice(raw, max1(len(spaces)))
	defer func() {
		for _, s := range slots {
			C.free(unsafe.Pointer(s.space))
			C.free(unsafe.Pointer(s.vectors))
		}
		C.free(unsafe.Pointer(raw))
	}()
	for i, sv := range spaces {
		if len(sv.Vectors) != n {
			return nil, invalid("%d items but %d vectors for the space %q", n, len(sv.Vectors), sv.Space)
		}
		dim := 0
		if n > 0 {
			dim = len(sv.Vectors[0])
		}
		flat := make([]float32, 0, n*dim)
		for j, v := range sv.Vectors {
			if len(v) != dim {
				return nil, invalid("vector %d of the space %q has %d floats, not %d", j, sv.Space, len(v), dim)
			}
			flat = append(flat, v...)
		}
		slots[i].space, slots[i].dim = cString(sv.Space), C.size_t(dim)
		slots[i].vectors = (*C.float)(C.malloc(C.size_t(max1(len(flat)) * 4)))
		if len(flat) > 0 {
			C.memcpy(unsafe.Pointer(slots[i].vectors), unsafe.Pointer(&flat[0]), C.size_t(len(flat)*4))
		}
	}
	rawItems, freeItems := cItems(items)
	defer freeItems()
	ids := make([]int64, max1(n))
	up := C.int32_t(0)
	if upsert {
		up = 1
	}
	err := c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_add_spaces(int64Ptr(ids), p, &rawItems[0], C.size_t(n), raw, C.size_t(len(spaces)), up)
	})
	if err != nil {
		return nil, err
	}
	return ids[:n], nil
}

// SetSpaceVectors sets the vectors of items already in the collection in a space other than
// the first (how a space added later is filled). All or nothing: ErrNotFound for an unknown id.
func (c *Collection) SetSpaceVectors(space string, ids []int64, vectors [][]float32) error {
	if len(ids) != len(vectors) {
		return invalid("%d ids but %d vectors", len(ids), len(vectors))
	}
	dim := 0
	if len(vectors) > 0 {
		dim = len(vectors[0])
	}
	flat := make([]float32, 0, len(vectors)*dim)
	for i, v := range vectors {
		if len(v) != dim {
			return invalid("vector %d has %d floats, not %d", i, len(v), dim)
		}
		flat = append(flat, v...)
	}
	cspace := C.CString(space)
	defer C.free(unsafe.Pointer(cspace))
	return c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_set_space_vectors(p, cspace, int64Ptr(ids), floatPtr(flat), C.size_t(len(ids)), C.size_t(dim))
	})
}

// SpaceVector returns the stored vector of an item in a space ("" = the first).
func (c *Collection) SpaceVector(id int64, space string) ([]float32, error) {
	spaces, err := c.Spaces()
	if err != nil {
		return nil, err
	}
	dim := 1 // no such space: the library's error names the spaces
	for _, s := range spaces {
		if (space == "" && s.First) || s.Name == space {
			dim = s.Dim
		}
	}
	cspace := cString(space)
	defer C.free(unsafe.Pointer(cspace))
	out := make([]float32, dim)
	err = c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_get_space_vector(floatPtr(out), C.size_t(dim), p, cspace, C.int64_t(id))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RebuildSpace rebuilds one space's index from its stored vectors ("" spec keeps its own).
func (c *Collection) RebuildSpace(space, spec string) error {
	cspace, cspec := C.CString(space), cString(spec)
	defer C.free(unsafe.Pointer(cspace))
	defer C.free(unsafe.Pointer(cspec))
	return c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_rebuild_space(p, cspace, cspec)
	})
}
