"""Collections: a folder holding an SQLite catalog and a FAISS index. Add, ingest, search."""
import ctypes
import math
import os
from ctypes import POINTER, byref, c_float, c_int32, c_int64, c_size_t, c_uint64, c_void_p
from dataclasses import dataclass, field
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

from . import _arrays, _native
from ._native import lib
from .errors import ClosedError, Status, check, error
from .model import ImageLike, Model
from .spaces import SpacesMixin

PathLike = Union[str, "os.PathLike[str]"]

_OPEN_CREATE, _OPEN_READONLY = 0x1, 0x2
_SCORE_ANY = -1.0e30


@dataclass
class Item:
    """An item: as input to add()/upsert() only `uri` is required (`id` is ignored); get()
    returns every field."""
    uri: str
    id: int = -1
    content_hash: str = ""
    size: int = 0
    mtime: int = 0
    width: int = 0
    height: int = 0
    payload: str = ""


@dataclass(frozen=True)
class Photo:
    """What an indexed file said of itself (cbir_collection_get_photo): its format, and from
    EXIF the capture time (`taken`: the camera clock's wall time as seconds since 1970 read as
    UTC; `offset_minutes`: its UTC offset when the file gives it), camera and GPS position.
    Absent facts are None ("" for format, make and model)."""
    format: str
    taken: Optional[int]
    offset_minutes: Optional[int]
    make: str
    model: str
    lat: Optional[float]
    lon: Optional[float]


class Time(int):
    """A timestamp attribute: seconds since 1970-01-01 UTC (a plain int is stored as an
    integer attribute)."""


_ATTR_NONE, _ATTR_STRING, _ATTR_INT, _ATTR_FLOAT, _ATTR_BOOL, _ATTR_TIME = range(6)


def _attr_in(id, key, value, keep):
    a = _native.Attr(id=id, key=_native.cstr(key))
    if value is None:
        a.type = _ATTR_NONE
    elif isinstance(value, bool):
        a.type, a.int_value = _ATTR_BOOL, int(value)
    elif isinstance(value, Time):
        a.type, a.int_value = _ATTR_TIME, int(value)
    elif isinstance(value, int):
        a.type, a.int_value = _ATTR_INT, value
    elif isinstance(value, float):
        a.type, a.float_value = _ATTR_FLOAT, value
    elif isinstance(value, str):
        a.type = _ATTR_STRING
        keep.append(_native.cstr(value))
        a.string_value = keep[-1]
    else:
        raise TypeError(f"attribute {key!r}: a str, int, float, bool, cbir.Time or None "
                        f"(to remove it), not {type(value).__name__}")
    return a


def _attr_out(a):
    if a.type == _ATTR_STRING:
        return _native.text(a.string_value)
    if a.type == _ATTR_FLOAT:
        return a.float_value
    if a.type == _ATTR_BOOL:
        return bool(a.int_value)
    if a.type == _ATTR_TIME:
        return Time(a.int_value)
    return a.int_value


@dataclass(frozen=True)
class Hit:
    """A search result: the item's id and uri, and its cosine similarity to the query."""
    id: int
    score: float
    uri: str


@dataclass(frozen=True)
class CollectionInfo:
    path: str
    fingerprint: str
    index_spec: str
    effective_spec: str
    dim: int
    read_only: bool
    count: int
    masked: int
    seq: int
    generation: int


@dataclass(frozen=True)
class Progress:
    """Where an ingest run stands, passed to the progress callback after every batch."""
    done: int
    total: int
    added: int
    failed: int
    seconds: float
    rate: float
    eta_seconds: float  # -1 while unknown


@dataclass(frozen=True)
class Failure:
    """A file that could not be indexed: its path, the status code and cbir's reason."""
    path: str
    code: int
    message: str

    @property
    def error(self):
        """The exception this failure would raise (e.g. an ImageError)."""
        return error(self.code, self.message)


@dataclass(frozen=True)
class IngestReport:
    found: int
    added: int
    updated: int
    unchanged: int
    duplicates: int
    failed: int
    removed: int
    cancelled: bool
    seconds: float
    failures: List[Failure] = field(default_factory=list)
    filled: int = 0  # unchanged items encoded for the vector spaces they lacked


def _items_in(items):
    rows = [Item(uri=x) if isinstance(x, (str, os.PathLike)) else x for x in items]
    arr = (_native.Item * max(1, len(rows)))()
    for dst, it in zip(arr, rows):
        dst.uri, dst.content_hash = _native.cstr(it.uri), _native.cstr(it.content_hash)
        dst.size, dst.mtime, dst.width, dst.height = it.size, it.mtime, it.width, it.height
        dst.payload = _native.cstr(it.payload)
    return arr, len(rows)


def _search_options(min_score=None, uri_prefix=None, ids=None, ef_search=0, nprobe=0, where=None,
                    space=None):
    """(cbir_search_options_t, keepalive) for the search filters."""
    opts = _native.SearchOptions()
    lib.cbir_search_options_init_size(byref(opts), ctypes.sizeof(opts))
    keep = None
    if min_score is not None:
        opts.min_score = min_score
    opts.uri_prefix = _native.cstr(uri_prefix)
    if ids is not None:
        keep, opts.n_ids, _ = _arrays.ints_in(ids)
        opts.ids = ctypes.cast(keep, POINTER(c_int64))
    opts.ef_search, opts.nprobe = ef_search, nprobe
    opts.where = _native.cstr(where)
    opts.space = _native.cstr(space)
    return opts, keep


class Collection(SpacesMixin):
    """A collection (cbir_collection_open): a folder with the catalog and the index.

    Searches and reads may run from many threads at once, also while one thread writes; writes
    are serialised by the collection. Only one process writes a collection at a time (others
    get LockedError); read-only handles see its commits after refresh(). Use it as a context
    manager, or call close(): a writer commits and saves its index on close. A closed
    collection raises ClosedError.
    """

    def __init__(self, path: PathLike, *, model: Optional[Model] = None, create: bool = False,
                 read_only: bool = False, dim: int = 0, fingerprint: Optional[str] = None,
                 index_spec: Optional[str] = None, memory_budget_mb: int = 0,
                 space: Optional[str] = None):
        """Opens the collection in folder `path`; with create=True makes it when absent (the
        parent folder must exist). `model` gives dim and fingerprint: the collection then
        refuses to open (MismatchError) if it was made with another model. index_spec: "auto"
        (default), "flat", "hnsw[:...]", "ivf[:...]" or "faiss:<factory string>" (cbir.h).
        space: when creating, the name of its first vector space (default "default"); others
        are added with add_space()."""
        self._handle = None
        if model is not None:
            dim = dim or model.dim
            fingerprint = fingerprint or model.fingerprint
        opts = _native.CollectionOptions()
        lib.cbir_collection_options_init_size(byref(opts), ctypes.sizeof(opts))
        opts.flags = (_OPEN_CREATE if create else 0) | (_OPEN_READONLY if read_only else 0)
        opts.dim, opts.fingerprint = dim, _native.cstr(fingerprint)
        opts.index_spec, opts.memory_budget_mb = _native.cstr(index_spec), memory_budget_mb
        opts.space = _native.cstr(space)
        handle = c_void_p()
        check(lib.cbir_collection_open(byref(handle), _native.cstr(path), byref(opts)))
        self._handle = handle
        self.dim = self.info.dim

    @property
    def _ptr(self):
        if self._handle is None:
            raise ClosedError(Status.ECLOSED, "the collection is closed")
        return self._handle

    @property
    def closed(self) -> bool:
        return self._handle is None

    @property
    def info(self) -> CollectionInfo:
        raw = POINTER(_native.CollectionInfo)()
        check(lib.cbir_collection_info(byref(raw), self._ptr))
        try:
            r, t = raw.contents, _native.text
            return CollectionInfo(t(r.path), t(r.fingerprint), t(r.index_spec),
                                  t(r.effective_spec), r.dim, bool(r.read_only), r.count,
                                  r.masked, r.seq, r.generation)
        finally:
            lib.cbir_free(raw)

    def __len__(self) -> int:
        n = c_uint64()
        check(lib.cbir_collection_count(byref(n), self._ptr))
        return n.value

    # -- writing ---------------------------------------------------------------------------

    def add(self, items: Sequence[Union[str, Item]], vectors) -> List[int]:
        """Adds items (uris or Items) with their vectors (n x dim); returns their new ids. All
        or nothing: ExistsError if a uri is already there (see upsert)."""
        return self._write(lib.cbir_collection_add, items, vectors)

    def upsert(self, items: Sequence[Union[str, Item]], vectors) -> List[int]:
        """As add(), but an existing uri is replaced, keeping its id."""
        return self._write(lib.cbir_collection_upsert, items, vectors)

    def _write(self, fn, items, vectors):
        arr, n = _items_in(items)
        ptr, rows, dim, _, _keep = _arrays.rows_in(vectors)
        if rows != n:
            raise ValueError(f"{n} items but {rows} vectors")
        ids = (c_int64 * max(1, n))()
        check(fn(ids, self._ptr, arr, ptr, n, dim))
        return list(ids[:n])

    def remove(self, ids: Sequence[int]) -> int:
        """Removes the items with these ids; returns how many existed."""
        arr, n, _ = _arrays.ints_in(ids)
        removed = c_size_t()
        check(lib.cbir_collection_remove(byref(removed), self._ptr, arr, n))
        return removed.value

    def remove_uri(self, uri: str) -> None:
        """Removes the item with this uri (NotFoundError if there is none)."""
        check(lib.cbir_collection_remove_uri(self._ptr, _native.cstr(uri)))

    def ingest(self, model: Model, source: Union[PathLike, Sequence[PathLike]], *,
               recursive: bool = True, follow_symlinks: bool = False,
               extensions: Optional[str] = None, workers: int = 0, commit_every: int = 0,
               prune: bool = False, fast_decode: bool = False,
               progress: Optional[Callable[[Progress], Optional[bool]]] = None,
               spaces: Optional[dict] = None) -> IngestReport:
        """Indexes image files with the model's image tower: every image under folder `source`
        (a path), or the files listed (a sequence of paths). Unchanged files are skipped; a file
        that cannot be decoded is listed in the report's failures and never stops the run.

        `progress` is called on this thread after every batch; returning False cancels the run
        (what was done is kept; the report says cancelled). An exception raised by `progress`
        cancels the run and is raised again here.

        `spaces` ({space name: Model}) encodes each file for other vector spaces too, decoding it
        once (`model` is the first space's); items lacking a vector in one of them are filled."""
        opts = _native.IngestOptions()
        lib.cbir_ingest_options_init(byref(opts))
        opts.recursive, opts.follow_symlinks = int(recursive), int(follow_symlinks)
        opts.extensions, opts.workers = _native.cstr(extensions), workers
        opts.commit_every, opts.prune, opts.fast_decode = commit_every, int(prune), int(fast_decode)
        raised = []
        if progress is not None:
            opts.progress = _native.PROGRESS_FN(_progress_thunk(progress, raised))
        report = c_void_p()
        pairs = [(None, model)] + list((spaces or {}).items())
        models = (_native.SpaceModel * len(pairs))()
        for slot, (name, m) in zip(models, pairs):
            slot.space, slot.model = _native.cstr(name), m._ptr
        if isinstance(source, (str, bytes, os.PathLike)):
            status = lib.cbir_ingest_dir_spaces(byref(report), self._ptr, models, len(pairs),
                                                _native.cstr(source), byref(opts))
        else:
            paths = list(source)
            status = lib.cbir_ingest_files_spaces(byref(report), self._ptr, models, len(pairs),
                                                  _native.cstr_array(paths), len(paths),
                                                  byref(opts))
        try:
            check(status)
            if raised:
                raise raised[0]
            return _read_report(report)
        finally:
            lib.cbir_ingest_report_free(report)

    def commit(self) -> None:
        """Makes every change so far durable."""
        check(lib.cbir_collection_commit(self._ptr))

    def save(self) -> None:
        """Commits, then writes the index snapshot so the next open does not replay."""
        check(lib.cbir_collection_save(self._ptr))

    def refresh(self) -> None:
        """A read-only handle takes in what the writer committed since."""
        check(lib.cbir_collection_refresh(self._ptr))

    def rebuild(self, index_spec: Optional[str] = None) -> None:
        """Rebuilds the index from the stored vectors (no re-encoding), optionally as another
        kind of index ("flat", "hnsw", "ivf:...")."""
        check(lib.cbir_collection_rebuild(self._ptr, _native.cstr(index_spec)))

    def compact(self) -> None:
        """Purges removed vectors from the index and checkpoints the catalog."""
        check(lib.cbir_collection_compact(self._ptr))

    def verify(self) -> None:
        """Checks catalog, stored vectors, snapshot and index; raises CorruptError saying what
        is wrong and what to do."""
        check(lib.cbir_collection_verify(self._ptr))

    def verify_report(self) -> List[Tuple[str, bool, str]]:
        """Every check of verify() (cbir_collection_verify_report), whatever the others found:
        a list of (check, passed, message), the message saying what is wrong and what to do,
        or giving a note. Raises nothing for a failed check."""
        found = []

        def on_check(_user, name, status, message):
            found.append((name.decode(), status == 0, message.decode("utf-8", "replace")))

        callback = _native.VERIFY_FN(on_check)
        lib.cbir_collection_verify_report(self._ptr, callback, None)
        return found

    def backup(self, dest: PathLike) -> None:
        """Writes a consistent copy of the collection to the new folder `dest` while it is in
        use (cbir_collection_backup): every item committed before the call; it opens as it is.
        Raises ExistsError when dest exists."""
        check(lib.cbir_collection_backup(self._ptr, _native.cstr(dest)))

    # -- reading ---------------------------------------------------------------------------

    def get(self, id: int) -> Item:
        """The item with this id (NotFoundError if there is none)."""
        raw = POINTER(_native.Item)()
        check(lib.cbir_collection_get(byref(raw), self._ptr, id))
        try:
            r, t = raw.contents, _native.text
            return Item(t(r.uri), r.id, t(r.content_hash), r.size, r.mtime, r.width, r.height,
                        t(r.payload))
        finally:
            lib.cbir_free(raw)

    def photo(self, id: int) -> Photo:
        """The photo facts of an item (NotFoundError if there is none)."""
        raw = POINTER(_native.Photo)()
        check(lib.cbir_collection_get_photo(byref(raw), self._ptr, id))
        try:
            r = raw.contents
            return Photo(_native.text(r.format), r.taken if r.has_taken else None,
                         r.offset_minutes if r.has_offset else None, _native.text(r.make),
                         _native.text(r.model), r.lat if r.has_location else None,
                         r.lon if r.has_location else None)
        finally:
            lib.cbir_free(raw)

    def set_attrs(self, attrs) -> int:
        """Sets user attributes, all or nothing: {id: {key: value}} or (id, key, value) triples.
        Values: str, int, float, bool, cbir.Time; None removes the key. Durable at commit().
        Returns how many changed something. Filters name them as attr.KEY."""
        triples = ([(i, k, v) for i, kv in attrs.items() for k, v in kv.items()]
                   if isinstance(attrs, dict) else list(attrs))
        keep = []
        arr = (_native.Attr * len(triples))(*[_attr_in(i, k, v, keep) for i, k, v in triples])
        changed = c_size_t()
        check(lib.cbir_collection_set_attrs(byref(changed), self._ptr, arr, len(triples)))
        return changed.value

    def attrs(self, id: int) -> dict:
        """The user attributes of an item, {key: value} (NotFoundError if there is no item)."""
        raw, n = POINTER(_native.Attr)(), c_size_t()
        check(lib.cbir_collection_get_attrs(byref(raw), byref(n), self._ptr, id))
        try:
            return {_native.text(raw[i].key): _attr_out(raw[i]) for i in range(n.value)}
        finally:
            if raw:
                lib.cbir_free(raw)

    def find(self, uri: str) -> int:
        """The id of the item with this uri (NotFoundError if there is none)."""
        out = c_int64()
        check(lib.cbir_collection_find(byref(out), self._ptr, _native.cstr(uri)))
        return out.value

    def vector(self, id: int):
        """The stored, L2-normalised vector of an item: a (dim,) array."""
        out = _arrays.Out(c_float, 1, self.dim)
        check(lib.cbir_collection_get_vector(out.ptr, self.dim, self._ptr, id))
        return out.row(0)

    def ids(self, page: int = 1024) -> Iterator[int]:
        """Every item id, in increasing order."""
        buf, n, after = (c_int64 * page)(), c_size_t(), -1
        while True:
            check(lib.cbir_collection_list(buf, byref(n), self._ptr, after, page))
            if n.value == 0:
                return
            yield from buf[:n.value]
            after = buf[n.value - 1]

    def search(self, query, k: int = 10, **filters):
        """The k items most similar to `query`: for one vector a list of Hits, best first; for
        an (n, dim) array one such list per row. Filters: min_score, uri_prefix, ids (only
        these items), where (a filter expression, docs/filters.md: "width >= 1000 and path
        like '%/beach/%'"), ef_search (hnsw), nprobe (ivf); space names the vector space
        searched (default: the first)."""
        ptr, n, dim, single, _keep = _arrays.rows_in(query, "query")
        ids, scores = _arrays.Out(c_int64, n, k), _arrays.Out(c_float, n, k)
        opts, _keep_ids = _search_options(**filters)
        check(lib.cbir_collection_search(ids.ptr, scores.ptr, self._ptr, ptr, n, dim, k,
                                         byref(opts)))
        hits = [self._hits(i, s) for i, s in _row_pairs(ids, scores, n, k)]
        return hits[0] if single else hits

    def search_text(self, model: Model, text: str, k: int = 10, **filters) -> List[Hit]:
        """The k items best matching a text (Chinese or English), embedded by `model`."""
        return self.search(model.embed_text(text), k, **filters)

    def search_image(self, model: Model, image: ImageLike, k: int = 10, **filters) -> List[Hit]:
        """The k items most similar to an image (see ImageLike), embedded by `model`."""
        return self.search(model.embed_image(image), k, **filters)

    def search_similar(self, id: int, k: int = 10, **filters) -> List[Hit]:
        """"More like this": the k items most similar to stored item `id`, itself left out."""
        ids, scores = _arrays.Out(c_int64, 1, k), _arrays.Out(c_float, 1, k)
        opts, _keep = _search_options(**filters)
        check(lib.cbir_collection_search_similar(ids.ptr, scores.ptr, self._ptr, id, k,
                                                 byref(opts)))
        return self._hits(ids.flat(), scores.flat())

    def range_search(self, query, min_score: float, **filters) -> List[Hit]:
        """Every item scoring at least min_score against one query vector, best first."""
        ptr, n, dim, _, _keep = _arrays.rows_in(query, "query")
        if n != 1:
            raise ValueError("range_search takes one query vector")
        out_ids, out_scores, out_n = POINTER(c_int64)(), POINTER(c_float)(), c_size_t()
        opts, _keep_ids = _search_options(**filters)
        check(lib.cbir_collection_range_search(byref(out_ids), byref(out_scores), byref(out_n),
                                               self._ptr, ptr, dim, min_score, byref(opts)))
        try:
            m = out_n.value
            return self._hits(out_ids[:m], out_scores[:m])
        finally:
            lib.cbir_free(out_ids)
            lib.cbir_free(out_scores)

    def duplicates(self, min_score: float = 0.95, **filters) -> List[List[int]]:
        """Groups of near-identical items (cbir_collection_duplicates): ids whose vectors score
        at least min_score against each other, joined transitively; ids ascending in each group,
        groups by their first id. Filters (uri_prefix, ids, where) restrict items and
        neighbours."""
        out_ids, out_offsets, out_n = POINTER(c_int64)(), POINTER(c_size_t)(), c_size_t()
        opts, _keep_ids = _search_options(**filters)
        check(lib.cbir_collection_duplicates(byref(out_ids), byref(out_offsets), byref(out_n),
                                             self._ptr, min_score, byref(opts), None, None))
        try:
            n = out_n.value
            offsets = out_offsets[:n + 1] if n else [0]
            return [list(out_ids[offsets[g]:offsets[g + 1]]) for g in range(n)]
        finally:
            lib.cbir_free(out_ids)
            lib.cbir_free(out_offsets)

    def _hits(self, ids, scores) -> List[Hit]:
        return [Hit(i, s, self.get(i).uri) for i, s in zip(ids, scores)
                if i != -1 and not math.isinf(s)]

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Commits and saves a writer's changes, then releases the handle. Idempotent. Errors
        while saving are only logged by cbir: call save() first to see them."""
        handle, self._handle = self._handle, None
        if handle is not None:
            lib.cbir_collection_close(handle)

    def __enter__(self) -> "Collection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 -- at interpreter exit the library may be gone
            pass

    def __repr__(self) -> str:
        if self._handle is None:
            return "<cbir.Collection closed>"
        return f"<cbir.Collection {self.info.path!r} items={len(self)} dim={self.dim}>"


def _row_pairs(ids, scores, n, k):
    flat_ids, flat_scores = ids.flat(), scores.flat()
    for r in range(n):
        yield flat_ids[r * k:(r + 1) * k], flat_scores[r * k:(r + 1) * k]


def _progress_thunk(callback, raised):
    """The C progress callback around a Python one: False cancels; an exception is kept for
    the caller and cancels too (it must not unwind through C)."""
    def thunk(_user, p):
        try:
            c = p.contents
            go_on = callback(Progress(c.done, c.total, c.added, c.failed, c.seconds, c.rate,
                                      c.eta_seconds))
            return 1 if go_on is False else 0
        except BaseException as e:  # noqa: B902 -- re-raised by ingest()
            raised.append(e)
            return 1
    return thunk


def _read_report(report) -> IngestReport:
    s = _native.IngestSummary()
    s.version = ctypes.sizeof(s)
    check(lib.cbir_ingest_report_summary(byref(s), report))
    failures = []
    for i in range(lib.cbir_ingest_report_failures(report)):
        path, code, message = ctypes.c_char_p(), c_int32(), ctypes.c_char_p()
        check(lib.cbir_ingest_report_failure(report, i, byref(path), byref(code), byref(message)))
        failures.append(Failure(_native.text(path.value), code.value, _native.text(message.value)))
    return IngestReport(s.found, s.added, s.updated, s.unchanged, s.duplicates, s.failed,
                        s.removed, bool(s.cancelled), s.seconds, failures, s.filled)
