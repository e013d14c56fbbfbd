"""Vectors in and out: numpy arrays when numpy is importable, lists of floats otherwise."""
import ctypes
from ctypes import c_float, c_int32, c_int64

try:
    import numpy as np
except ImportError:  # numpy is optional
    np = None

_NUMPY_TYPES = {c_float: "float32", c_int64: "int64", c_int32: "int32"}


def rows_in(data, name="vectors"):
    """One vector or a sequence of rows -> (pointer, n, dim, single, keepalive).

    `single` says the input was one vector, so the caller can hand back one row."""
    if np is not None:
        a = np.ascontiguousarray(data, dtype=np.float32)
        single = a.ndim == 1
        if single:
            a = a.reshape(1, -1)
        if a.ndim != 2:
            raise ValueError(f"{name} must be one vector or a 2-D array, not {a.ndim}-D")
        return a.ctypes.data_as(ctypes.POINTER(c_float)), a.shape[0], a.shape[1], single, a
    rows = list(data)
    single = bool(rows) and not hasattr(rows[0], "__len__")
    if single:
        rows = [rows]
    dim = len(rows[0]) if rows else 0
    for i, r in enumerate(rows):
        if len(r) != dim:
            raise ValueError(f"{name}: row {i} has {len(r)} values, row 0 has {dim}")
    flat = (c_float * max(1, len(rows) * dim))(*[float(x) for r in rows for x in r])
    return flat, len(rows), dim, single, flat


def ints_in(values):
    """A sequence of ints -> (int64 pointer or None, n, keepalive)."""
    values = [int(v) for v in values]
    arr = (c_int64 * max(1, len(values)))(*values)
    return arr, len(values), arr


class Out:
    """A caller-owned output buffer of n rows x cols values of a ctypes type."""

    def __init__(self, ctype, n, cols=1):
        self.n, self.cols = n, cols
        if np is not None:
            self.array = np.zeros((n, cols), dtype=_NUMPY_TYPES[ctype])
            self.ptr = self.array.ctypes.data_as(ctypes.POINTER(ctype))
        else:
            self.array = (ctype * max(1, n * cols))()
            self.ptr = self.array

    def rows(self):
        """(n, cols) array, or a list of n lists."""
        if np is not None:
            return self.array
        c = self.cols
        return [list(self.array[i * c:(i + 1) * c]) for i in range(self.n)]

    def row(self, i):
        if np is not None:
            return self.array[i]
        return list(self.array[i * self.cols:(i + 1) * self.cols])

    def flat(self):
        """A flat list of Python numbers (for bookkeeping, not for users)."""
        if np is not None:
            return self.array.reshape(-1).tolist()
        return list(self.array[:self.n * self.cols])
