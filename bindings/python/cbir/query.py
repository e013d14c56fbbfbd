"""Composite queries (cbir_query_compose): texts, images, items and vectors, weighted and summed."""
import os
from ctypes import POINTER, c_char_p, c_float, c_void_p, cast
from typing import Optional, Sequence, Tuple

from . import _arrays, _native
from ._native import lib
from .errors import check

_TEXT, _IMAGE_FILE, _IMAGE_BUFFER, _ITEM, _VECTOR = 1, 2, 3, 4, 5


def compose_query(parts: Sequence[Tuple[object, float]], *, model=None, collection=None,
                  dim: int = 0):
    """One query vector from (part, weight) pairs, to pass to Collection.search():
    normalize(sum of weight * normalize(part's vector)). A part is a str (a text, Chinese or
    English), an os.PathLike (an image file), bytes (an encoded image), an int (the id of an
    item of `collection`) or a sequence of floats (a vector). Negative weights subtract:
    compose_query([("a dog", 1), ("beach", 1), ("people", -1), (Path("ref.jpg"), 0.5)],
    model=m). `dim` defaults to the model's or the collection's."""
    dim = dim or (model.dim if model is not None else collection.dim if collection is not None else 0)
    if not dim:
        raise ValueError("give a model, a collection or dim")
    arr = (_native.QueryPart * max(1, len(parts)))()
    keep = []
    for i, (value, weight) in enumerate(parts):
        p = arr[i]
        p.weight = float(weight)
        if isinstance(value, str):
            p.kind, p.text = _TEXT, _native.cstr(value)
        elif isinstance(value, os.PathLike):
            p.kind, p.text = _IMAGE_FILE, _native.cstr(value)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            buf = bytes(value)
            keep.append(buf)
            p.kind, p.data, p.size = _IMAGE_BUFFER, cast(c_char_p(buf), c_void_p), len(buf)
        elif isinstance(value, int):
            p.kind, p.id = _ITEM, value
        else:
            ptr, n, vdim, single, hold = _arrays.rows_in(value, f"part {i}")
            if not single or vdim != dim:
                raise ValueError(f"part {i}: a vector of {dim} floats, not {n} x {vdim}")
            keep.append(hold)
            p.kind, p.vector = _VECTOR, ptr
    out = _arrays.Out(c_float, 1, dim)
    check(lib.cbir_query_compose(out.ptr, dim, model._ptr if model is not None else None,
                                 collection._ptr if collection is not None else None, arr,
                                 len(parts)))
    return out.row(0)
