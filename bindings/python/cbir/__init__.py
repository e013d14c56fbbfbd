"""cbir: content-based image retrieval (Chinese-CLIP, DINOv2, FAISS), in-process.

A pure-ctypes binding of libcbir's C API (include/cbir.h). The library is found through the
CBIR_LIBRARY environment variable (a path to libcbir.so) or the system's library search path.

    import cbir
    with cbir.Model("models/tiny-bilingual") as model, \\
         cbir.Collection("my-collection", model=model, create=True) as coll:
        coll.ingest(model, "photos/")
        for hit in coll.search_text(model, "红色的圆形", k=5):
            print(hit.score, hit.uri)
"""
import atexit
from typing import Callable, List, Optional

from . import _native
from .collection import (Collection, CollectionInfo, Failure, Hit, IngestReport, Item, Photo,
                         Progress, Time)
from .errors import (ClosedError, CorruptError, CancelledError, Error, ExistsError, FileIOError,
                     ImageError, InvalidArgumentError, LockedError, MismatchError, ModelError,
                     NotFoundError, OutOfMemoryError, Status, UnsupportedError, check)
from .image import preprocess_image, probe_image
from .model import ImageEmbeddings, ImageLike, Model, ModelInfo
from .query import compose_query
from .spaces import SpaceInfo
from .tokenizer import Tokenizer

__version__ = "0.1.0"

__all__ = [
    "Model", "ModelInfo", "ImageLike", "ImageEmbeddings", "Tokenizer", "preprocess_image",
    "probe_image", "Collection", "CollectionInfo", "Item", "Hit", "Photo", "Time", "compose_query",
    "SpaceInfo",
    "IngestReport", "Failure", "Progress", "Status", "Error", "InvalidArgumentError",
    "OutOfMemoryError", "FileIOError", "NotFoundError", "ExistsError", "CorruptError",
    "MismatchError", "LockedError", "UnsupportedError", "CancelledError", "ModelError",
    "ClosedError", "ImageError", "library_version", "build_info", "features", "image_formats", "set_threads",
    "set_malloc_reuse",
    "set_log_handler", "LOG_DEBUG", "LOG_INFO", "LOG_WARN", "LOG_ERROR",
]

LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR = 0, 1, 2, 3
_lib = _native.lib


def library_version() -> str:
    """The version of the loaded libcbir, "MAJOR.MINOR.PATCH"."""
    return _native.text(_lib.cbir_version_string())


def build_info() -> str:
    """One line describing the library's build (LibTorch, FAISS, CUDA, threads)."""
    return _native.text(_lib.cbir_build_info())


def features() -> int:
    """A bitmask of the CBIR_FEATURE_* flags of cbir.h (CUDA 1, OpenMP 2, TurboJPEG 4, native
    bf16 on this CPU 8)."""
    return _lib.cbir_features()


def cpu_features() -> List[str]:
    """This CPU's instruction-set extensions that the kernels use ("avx2", "avx512_bf16", ...)."""
    return _native.text(_lib.cbir_cpu_features()).split()


def image_formats() -> List[str]:
    """The image formats this libcbir decodes ("jpeg", "png", ..., "webp", "tiff", "heic", "avif",
    "jxl" where built with their libraries)."""
    return _native.text(_lib.cbir_image_formats()).split()


def set_threads(threads: int) -> None:
    """Threads for the library's compute kernels, process-wide; 0 = one per core."""
    check(_lib.cbir_set_threads(threads))


def set_malloc_reuse(on: bool) -> None:
    """Whether glibc's malloc keeps large blocks for reuse, process-wide (cbir_set_malloc_reuse
    in cbir.h: on by default once a CPU model opens; several times faster inference, resident
    memory stays near its peak)."""
    check(_lib.cbir_set_malloc_reuse(1 if on else 0))


_log_callback = None  # the installed C callback, kept alive while installed


def set_log_handler(handler: Optional[Callable[[int, str], None]],
                    min_level: int = LOG_WARN) -> None:
    """Sends the library's diagnostics (level, message) to `handler`, e.g. to `logging`;
    None removes it. The handler may be called from the library's threads."""
    global _log_callback
    if handler is None:
        _lib.cbir_set_log_callback(_native.LOG_FN(), None, 0)
        _log_callback = None
        return

    def forward(_user, level, message):
        try:
            handler(level, _native.text(message))
        except Exception:  # noqa: BLE001 -- must not unwind through C
            pass

    callback = _native.LOG_FN(forward)
    _lib.cbir_set_log_callback(callback, None, min_level)
    _log_callback = callback


# The library's threads must not call into an interpreter that is shutting down.
atexit.register(lambda: _log_callback is not None and set_log_handler(None))
