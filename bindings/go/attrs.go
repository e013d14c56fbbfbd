package cbir

/*
#include <stdlib.h>
#include <cbir.h>
*/
import "C"

import (
	"time"
	"unsafe"
)

// Photo is what an indexed file said of itself (cbir_collection_get_photo): its format, and
// from EXIF the capture time (the camera clock's wall time, as seconds since 1970 read as UTC,
// with its UTC offset in minutes when the file gives it), the camera, the GPS position. Absent
// facts are nil ("" for Format, Make and Model).
type Photo struct {
	Format        string
	Taken         *int64
	OffsetMinutes *int32
	Make, Model   string
	Lat, Lon      *float64
}

// Photo returns the photo facts of item id.
func (c *Collection) Photo(id int64) (Photo, error) {
	var out Photo
	err := c.use(func(p *C.cbir_collection_t) C.int {
		var raw *C.cbir_photo_t
		s := C.cbir_collection_get_photo(&raw, p, C.int64_t(id))
		if s != 0 {
			return s
		}
		defer C.cbir_free(unsafe.Pointer(raw))
		out.Format, out.Make, out.Model = C.GoString(raw.format), C.GoString(raw.make), C.GoString(raw.model)
		if raw.has_taken != 0 {
			t := int64(raw.taken)
			out.Taken = &t
		}
		if raw.has_offset != 0 {
			o := int32(raw.offset_minutes)
			out.OffsetMinutes = &o
		}
		if raw.has_location != 0 {
			lat, lon := float64(raw.lat), float64(raw.lon)
			out.Lat, out.Lon = &lat, &lon
		}
		return 0
	})
	return out, err
}

// SetAttrs sets user attributes, all or nothing: attrs[id][key] = value, where a value is a
// string, an int or int64, a float64, a bool, a time.Time (a timestamp), or nil to remove the
// key. Durable at Commit. Filters name them as attr.KEY. Returns how many changed something.
func (c *Collection) SetAttrs(attrs map[int64]map[string]interface{}) (int, error) {
	n := 0
	for _, kv := range attrs {
		n += len(kv)
	}
	// C memory throughout: the array holds pointers to the keys and strings.
	arr := (*[1 << 28]C.cbir_attr_t)(C.calloc(C.size_t(max1(n)), C.size_t(unsafe.Sizeof(C.cbir_attr_t{}))))[:max1(n):max1(n)]
	var strs []*C.char
	defer func() {
		for _, s := range strs {
			C.free(unsafe.Pointer(s))
		}
		C.free(unsafe.Pointer(&arr[0]))
	}()
	i := 0
	for id, kv := range attrs {
		for key, value := range kv {
			a := &arr[i]
			a.id = C.int64_t(id)
			a.key = C.CString(key)
			strs = append(strs, a.key)
			switch v := value.(type) {
			case nil:
				a._type = C.CBIR_ATTR_NONE
			case string:
				a._type, a.string_value = C.CBIR_ATTR_STRING, C.CString(v)
				strs = append(strs, a.string_value)
			case int:
				a._type, a.int_value = C.CBIR_ATTR_INT, C.int64_t(v)
			case int64:
				a._type, a.int_value = C.CBIR_ATTR_INT, C.int64_t(v)
			case float64:
				a._type, a.float_value = C.CBIR_ATTR_FLOAT, C.double(v)
			case bool:
				a._type = C.CBIR_ATTR_BOOL
				if v {
					a.int_value = 1
				}
			case time.Time:
				a._type, a.int_value = C.CBIR_ATTR_TIME, C.int64_t(v.Unix())
			default:
				return 0, invalid("attribute %q: a string, int, float64, bool, time.Time or nil, not %T", key, value)
			}
			i++
		}
	}
	var changed C.size_t
	err := c.use(func(p *C.cbir_collection_t) C.int {
		return C.cbir_collection_set_attrs(&changed, p, &arr[0], C.size_t(n))
	})
	return int(changed), err
}

// Attrs returns the user attributes of item id: string, int64, float64, bool or time.Time (UTC).
func (c *Collection) Attrs(id int64) (map[string]interface{}, error) {
	out := map[string]interface{}{}
	err := c.use(func(p *C.cbir_collection_t) C.int {
		var raw *C.cbir_attr_t
		var n C.size_t
		s := C.cbir_collection_get_attrs(&raw, &n, p, C.int64_t(id))
		if s != 0 || n == 0 {
			return s
		}
		defer C.cbir_free(unsafe.Pointer(raw))
		for _, a := range unsafe.Slice(raw, int(n)) {
			var v interface{}
			switch a._type {
			case C.CBIR_ATTR_STRING:
				v = C.GoString(a.string_value)
			case C.CBIR_ATTR_FLOAT:
				v = float64(a.float_value)
			case C.CBIR_ATTR_BOOL:
				v = a.int_value != 0
			case C.CBIR_ATTR_TIME:
				v = time.Unix(int64(a.int_value), 0).UTC()
			default:
				v = int64(a.int_value)
			}
			out[C.GoString(a.key)] = v
		}
		return 0
	})
	return out, err
}

// Duplicates returns groups of near-identical items (cbir_collection_duplicates): ids whose
// vectors score at least minScore against each other, joined transitively; each group's ids
// ascending, groups by their first id. opts restricts items and neighbours (its MinScore is
// not used); it may be nil.
func (c *Collection) Duplicates(minScore float32, opts *SearchOptions) ([][]int64, error) {
	o, free := searchOptions(opts)
	defer free()
	var groups [][]int64
	err := c.use(func(p *C.cbir_collection_t) C.int {
		var ids *C.int64_t
		var offsets *C.size_t
		var n C.size_t
		s := C.cbir_collection_duplicates(&ids, &offsets, &n, p, C.float(minScore), o, nil, nil)
		if s != 0 || n == 0 {
			return s
		}
		defer C.cbir_free(unsafe.Pointer(ids))
		defer C.cbir_free(unsafe.Pointer(offsets))
		all := unsafe.Slice((*int64)(unsafe.Pointer(ids)), int(unsafe.Slice(offsets, int(n)+1)[n]))
		off := unsafe.Slice(offsets, int(n)+1)
		for g := 0; g < int(n); g++ {
			groups = append(groups, append([]int64(nil), all[off[g]:off[g+1]]...))
		}
		return 0
	})
	return groups, err
}

// QueryPart is one part of a composite query: exactly one of Text, ImageFile, Image (encoded
// bytes), Item or Vector, with its Weight (negative subtracts).
type QueryPart struct {
	Text      string
	ImageFile string
	Image     []byte
	Item      *int64
	Vector    []float32
	Weight    float32
}

// ComposeQuery returns normalize(sum of Weight * normalize(part's vector)) (cbir_query_compose),
// to pass to Search. model is needed for text and image parts, coll for items; either may be
// nil otherwise.
func ComposeQuery(parts []QueryPart, model *Model, coll *Collection) ([]float32, error) {
	dim := 0
	if model != nil {
		dim = model.Info().Dim
	} else if coll != nil {
		dim = coll.dim
	}
	if dim == 0 {
		return nil, invalid("ComposeQuery needs a model or a collection")
	}
	n := len(parts)
	arr := (*[1 << 26]C.cbir_query_part_t)(C.calloc(C.size_t(max1(n)), C.size_t(unsafe.Sizeof(C.cbir_query_part_t{}))))[:max1(n):max1(n)]
	var blocks []unsafe.Pointer
	defer func() {
		for _, b := range blocks {
			C.free(b)
		}
		C.free(unsafe.Pointer(&arr[0]))
	}()
	for i, part := range parts {
		a := &arr[i]
		a.weight = C.float(part.Weight)
		set := 0
		if part.Text != "" {
			a.kind, a.text = C.CBIR_PART_TEXT, C.CString(part.Text)
			blocks, set = append(blocks, unsafe.Pointer(a.text)), set+1
		}
		if part.ImageFile != "" {
			a.kind, a.text = C.CBIR_PART_IMAGE_FILE, C.CString(part.ImageFile)
			blocks, set = append(blocks, unsafe.Pointer(a.text)), set+1
		}
		if part.Image != nil {
			a.kind, a.data, a.size = C.CBIR_PART_IMAGE_BUFFER, C.CBytes(part.Image), C.size_t(len(part.Image))
			blocks, set = append(blocks, a.data), set+1
		}
		if part.Item != nil {
			a.kind, a.id, set = C.CBIR_PART_ITEM, C.int64_t(*part.Item), set+1
		}
		if part.Vector != nil {
			if len(part.Vector) != dim {
				return nil, invalid("part %d: a vector of %d floats, not %d", i, dim, len(part.Vector))
			}
			v := C.CBytes(unsafe.Slice((*byte)(unsafe.Pointer(&part.Vector[0])), 4*dim))
			a.kind, a.vector = C.CBIR_PART_VECTOR, (*C.float)(v)
			blocks, set = append(blocks, v), set+1
		}
		if set != 1 {
			return nil, invalid("part %d: set exactly one of Text, ImageFile, Image, Item, Vector (%d set)", i, set)
		}
	}
	out := make([]float32, dim)
	run := func(mp *C.cbir_model_t) error {
		if coll == nil {
			return call(func() C.int {
				return C.cbir_query_compose(floatPtr(out), C.size_t(dim), mp, nil, &arr[0], C.size_t(n))
			})
		}
		return coll.use(func(cp *C.cbir_collection_t) C.int {
			return C.cbir_query_compose(floatPtr(out), C.size_t(dim), mp, cp, &arr[0], C.size_t(n))
		})
	}
	var err error
	if model != nil {
		err = model.use(func(p *C.cbir_model_t) error { return run(p) })
	} else {
		err = run(nil)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
