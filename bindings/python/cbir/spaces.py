"""Vector spaces of a collection: other models' vectors of the same items, beside the first
model's, each with its own index (cbir_collection_add_space and the calls after it in cbir.h).
Collection inherits these methods; searches pick a space with space="name"."""
from ctypes import POINTER, byref, c_float, c_int64, c_size_t
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from . import _arrays, _native
from ._native import lib
from .errors import check


@dataclass(frozen=True)
class SpaceInfo:
    name: str
    fingerprint: str
    index_spec: str
    effective_spec: str
    dim: int
    first: bool
    count: int
    generation: int


class SpacesMixin:
    """The space calls of Collection (which provides _ptr and the item conversion)."""

    def add_space(self, name: str, model=None, *, dim: int = 0, fingerprint: Optional[str] = None,
                  index_spec: Optional[str] = None) -> None:
        """Adds an empty vector space for `model`'s vectors (or dim and fingerprint), committed
        at once. Names: 1 to 32 of a-z, 0-9, '_', '-'. ExistsError when the name is taken."""
        if model is not None:
            dim = dim or model.dim
            fingerprint = fingerprint or model.fingerprint
        check(lib.cbir_collection_add_space(self._ptr, _native.cstr(name), dim,
                                            _native.cstr(fingerprint), _native.cstr(index_spec)))

    @property
    def spaces(self) -> List[SpaceInfo]:
        """Every vector space, the first one first."""
        raw, n = POINTER(_native.SpaceInfo)(), c_size_t()
        check(lib.cbir_collection_spaces(byref(raw), byref(n), self._ptr))
        try:
            t = _native.text
            return [SpaceInfo(t(r.name), t(r.fingerprint), t(r.index_spec), t(r.effective_spec),
                              r.dim, bool(r.first), r.count, r.generation)
                    for r in (raw[i] for i in range(n.value))]
        finally:
            lib.cbir_free(raw)

    def add_spaces(self, items, vectors: Dict[Optional[str], object], *,
                   upsert: bool = False) -> List[int]:
        """Adds (or with upsert=True, replaces) items with their vectors in several spaces at
        once: {space name: (n, dim) vectors}, the first space's included (its key may be None).
        All or nothing; an upserted item leaves the spaces not given."""
        from .collection import _items_in  # the module that imports this one
        arr, n = _items_in(items)
        given = (_native.SpaceVectors * max(1, len(vectors)))()
        keep = []
        for slot, (space, rows) in zip(given, vectors.items()):
            ptr, count, dim, _, alive = _arrays.rows_in(rows)
            if count != n:
                raise ValueError(f"{n} items but {count} vectors for the space {space!r}")
            slot.space, slot.vectors, slot.dim = _native.cstr(space), ptr, dim
            keep.append(alive)
        ids = (c_int64 * max(1, n))()
        check(lib.cbir_collection_add_spaces(ids, self._ptr, arr, n, given, len(vectors),
                                             1 if upsert else 0))
        return list(ids[:n])

    def set_space_vectors(self, space: str, ids: Sequence[int], vectors) -> None:
        """Sets the vectors of items already in the collection in a space other than the first
        (how a space added later is filled). All or nothing: NotFoundError for an unknown id."""
        id_arr, n, _ = _arrays.ints_in(ids)
        ptr, rows, dim, _, _keep = _arrays.rows_in(vectors)
        if rows != n:
            raise ValueError(f"{n} ids but {rows} vectors")
        check(lib.cbir_collection_set_space_vectors(self._ptr, _native.cstr(space), id_arr, ptr,
                                                    n, dim))

    def space_vector(self, id: int, space: Optional[str] = None):
        """The stored vector of an item in a space (default: the first): a (dim,) array."""
        infos = [s for s in self.spaces if (s.first if space is None else s.name == space)]
        dim = infos[0].dim if infos else 1  # none: the library's error names the spaces
        out = _arrays.Out(c_float, 1, dim)
        check(lib.cbir_collection_get_space_vector(out.ptr, dim, self._ptr, _native.cstr(space),
                                                   id))
        return out.row(0)

    def rebuild_space(self, space: str, index_spec: Optional[str] = None) -> None:
        """Rebuilds one space's index from its stored vectors (as rebuild() does the first's)."""
        check(lib.cbir_collection_rebuild_space(self._ptr, _native.cstr(space),
                                                _native.cstr(index_spec)))
