"""Model bundles: open one, embed texts and images, classify zero-shot."""
import ctypes
import os
from ctypes import byref, c_char_p, c_float, c_int32, c_size_t, c_void_p
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Union

from . import _arrays, _native
from ._native import lib
from .errors import ClosedError, Error, Status, check, error
from .tokenizer import Tokenizer

#: What the embed functions accept as one image: a file path, the bytes of an encoded image
#: (JPEG, PNG, WebP, HEIC, ...: cbir.image_formats()), a uint8 array of pixels (H x W x 3 RGB,
#: H x W x 4 RGBA or H x W gray, top row first), or a PIL image.
ImageLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, Any]

_PRECISIONS = {"fp32": 0, "fp16": 1, "bf16": 2, "auto": 3}  # CBIR_PRECISION_* of cbir.h
_TOWERS = {"all": 0, "image": 1, "text": 2}  # CBIR_TOWER_* of cbir.h
_PIXEL_FORMATS = {3: 0, 4: 1}  # channels -> CBIR_PIXELS_RGB8 / RGBA8; 2-D arrays are GRAY8


@dataclass(frozen=True)
class ModelInfo:
    """What a model is (cbir_model_info_t)."""
    name: str
    family: str
    fingerprint: str
    precision: str
    device: str
    path: str
    dim: int
    has_image: bool
    has_text: bool
    context_length: int
    logit_scale: float
    batch_size: int
    input_side: int
    compute_precision: str  #: what the towers compute in: "fp32", "bf16", "fp16" or "int8"


def _image_kind(x):
    if isinstance(x, (str, os.PathLike)):
        return "file"
    if isinstance(x, (bytes, bytearray, memoryview)):
        return "buffer"
    if hasattr(x, "mode") and hasattr(x, "tobytes") and hasattr(x, "size"):
        return "pil"
    if _arrays.np is not None and isinstance(x, _arrays.np.ndarray) and x.dtype == _arrays.np.uint8:
        return "pixels"
    return None


def _pixels(x, keep):
    """A cbir_pixels_t for a PIL image or a uint8 array; `keep` holds what must stay alive."""
    if hasattr(x, "mode"):  # PIL: its own conversion, as the reference pipeline does
        rgb = x.convert("RGB")
        data = rgb.tobytes()
        keep.append(data)
        return _native.Pixels(ctypes.cast(c_char_p(data), c_void_p), rgb.size[0], rgb.size[1], 0, 0)
    a = _arrays.np.ascontiguousarray(x)
    keep.append(a)
    if a.ndim == 2:
        fmt = 2
    elif a.ndim == 3 and a.shape[2] in _PIXEL_FORMATS:
        fmt = _PIXEL_FORMATS[a.shape[2]]
    else:
        raise ValueError(f"pixels must be H x W (gray), H x W x 3 (RGB) or H x W x 4 (RGBA), "
                         f"not {a.shape}")
    return _native.Pixels(a.ctypes.data, a.shape[1], a.shape[0], 0, fmt)


class ImageEmbeddings:
    """What Model.embed_images gives: `vectors`, one row per image in order (an (n, dim) array,
    lists without numpy), and `errors`, per image None or the Error that image got. A failed
    image's row is all zeros; it never fails the others.

    >>> result = model.embed_images(paths)
    >>> for path, vector, err in zip(paths, result.vectors, result.errors):
    ...     print(path, err or "ok")
    """

    def __init__(self, vectors, errors: List[Optional[Error]]):
        self.vectors = vectors
        self.errors = errors

    @property
    def ok(self) -> bool:
        """Whether every image was embedded."""
        return all(e is None for e in self.errors)

    @property
    def failed(self) -> List[int]:
        """The indices of the images that failed."""
        return [i for i, e in enumerate(self.errors) if e is not None]

    def check(self):
        """The vectors when every image was embedded; else raises the first image's error."""
        for e in self.errors:
            if e is not None:
                raise e
        return self.vectors

    def __len__(self) -> int:
        return len(self.errors)

    def __repr__(self) -> str:
        return f"<cbir.ImageEmbeddings {len(self)} images, {len(self.failed)} failed>"


class Model:
    """A model bundle, loaded (cbir_model_open): a folder made by tools/export, or the shipped
    models/tiny-bilingual.

    Embeddings come back L2-normalised as float32 numpy arrays (lists without numpy). A model is
    safe to use from many threads at once; close() must not race with other calls. Use it as a
    context manager, or call close(); a closed model raises ClosedError.

    >>> with cbir.Model("models/tiny-bilingual") as model:
    ...     v = model.embed_text("a red circle")
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], *, device: Optional[str] = None,
                 precision: str = "fp32", threads: int = 0, batch_size: int = 0,
                 verify_hashes: bool = True, exif_orientation: bool = True,
                 fast_decode: bool = False, max_pixels: int = 0, towers: str = "all"):
        """Opens the bundle in folder `path`. device: "auto" (default), "cpu", "cuda", "cuda:N".
        precision: "fp32" (default), "bf16", "fp16" or "auto" (bf16 on a CPU that computes it
        natively, else fp32; cbir.h); info.compute_precision says what was chosen.
        towers: "all" (every tower the bundle has), "image" or "text" (load only that one).
        Raises NotFoundError, CorruptError, UnsupportedError, ModelError, InvalidArgumentError."""
        self._handle = None
        if towers not in _TOWERS:
            raise ValueError(f"towers must be one of {sorted(_TOWERS)}, not {towers!r}")
        if precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of {sorted(_PRECISIONS)}, not {precision!r}")
        opts = _native.ModelOptions()
        lib.cbir_model_options_init(byref(opts))
        opts.device = _native.cstr(device)
        opts.precision = _PRECISIONS[precision]
        opts.threads, opts.batch_size = threads, batch_size
        opts.verify_hashes, opts.exif_orientation = int(verify_hashes), int(exif_orientation)
        opts.fast_decode, opts.max_pixels = int(fast_decode), max_pixels
        opts.towers = _TOWERS[towers]
        handle = c_void_p()
        check(lib.cbir_model_open(byref(handle), _native.cstr(path), byref(opts)))
        self._handle = handle
        self.info = self._read_info()

    def _read_info(self) -> ModelInfo:
        raw = _native.ModelInfo()
        raw.version = ctypes.sizeof(raw)
        check(lib.cbir_model_info(byref(raw), self._ptr))
        t = _native.text
        return ModelInfo(t(raw.name), t(raw.family), t(raw.fingerprint), t(raw.precision),
                         t(raw.device), t(raw.path), raw.dim, bool(raw.has_image),
                         bool(raw.has_text), raw.context_length, raw.logit_scale, raw.batch_size,
                         raw.input_side, t(raw.compute_precision))

    @property
    def _ptr(self):
        if self._handle is None:
            raise ClosedError(Status.ECLOSED, "the model is closed")
        return self._handle

    @property
    def dim(self) -> int:
        """Floats per embedding."""
        return self.info.dim

    @property
    def fingerprint(self) -> str:
        """"sha256:<hex>"; collections remember it to refuse embeddings of another model."""
        return self.info.fingerprint

    @property
    def closed(self) -> bool:
        return self._handle is None

    @property
    def tokenizer(self) -> Tokenizer:
        """The bundle's own tokenizer (its vocab.txt and lower-casing), valid while the model
        is open. Raises UnsupportedError for a model without a text tower."""
        handle = c_void_p()
        check(lib.cbir_model_tokenizer(byref(handle), self._ptr))
        return Tokenizer._borrowed(handle, self)

    def embed_texts(self, texts: Sequence[str]):
        """Embeds UTF-8 texts (Chinese or English) with the text tower: an (n, dim) array.
        Raises UnsupportedError for a model without a text tower."""
        texts = list(texts)
        out = _arrays.Out(c_float, len(texts), self.dim)
        check(lib.cbir_model_embed_texts(out.ptr, self._ptr, _native.cstr_array(texts),
                                         len(texts)))
        return out.rows()

    def embed_text(self, text: str):
        """One text's embedding: a (dim,) array."""
        return self.embed_texts([text])[0]

    def embed_images(self, images: Sequence[ImageLike]) -> "ImageEmbeddings":
        """Embeds images (all paths, all encoded bytes, or all pixels: see ImageLike) with the
        image tower. One bad image never fails the batch: the result holds a row per image
        and, per image, None or its error (an ImageError for undecodable data, NotFoundError
        for a missing file). `.check()` gives the (n, dim) rows or raises the first error.
        Raises for the whole call only when no image can be embedded (e.g. UnsupportedError
        without an image tower)."""
        images = list(images)
        kinds = {_image_kind(x) for x in images}
        if None in kinds or len(kinds) > 1:
            raise TypeError("images must all be paths, all encoded bytes, or all pixel arrays / "
                            "PIL images")
        n, ptr = len(images), self._ptr
        out = _arrays.Out(c_float, n, self.dim)
        statuses = (c_int32 * max(1, n))()
        kind = kinds.pop() if kinds else "file"
        keep = []
        if kind == "file":
            check(lib.cbir_model_embed_image_files(out.ptr, statuses, ptr,
                                                   _native.cstr_array(images), n))
        elif kind == "buffer":
            data = [bytes(x) for x in images]
            ptrs = (c_void_p * max(1, n))(*[ctypes.cast(c_char_p(b), c_void_p) for b in data])
            sizes = (c_size_t * max(1, n))(*[len(b) for b in data])
            check(lib.cbir_model_embed_image_buffers(out.ptr, statuses, ptr, ptrs, sizes, n))
        else:
            pixels = (_native.Pixels * max(1, n))(*[_pixels(x, keep) for x in images])
            check(lib.cbir_model_embed_image_pixels(out.ptr, statuses, ptr, pixels, n))
        # The item messages are only valid until the next embed call on this thread: read now.
        errors = [None if statuses[i] == 0 else
                  error(statuses[i], f"image {i}: {_native.text(lib.cbir_model_item_error(i))}")
                  for i in range(n)]
        return ImageEmbeddings(out.rows(), errors)

    def embed_image(self, image: ImageLike):
        """One image's embedding: a (dim,) array. Raises the image's error."""
        return self.embed_images([image]).check()[0]

    def classify(self, image, labels: Sequence[str]):
        """Zero-shot classification: the probability of each label (aligned with `labels`,
        summing to 1) for an image (ImageLike) or an image embedding (dim floats)."""
        labels = list(labels)
        vector = image if _image_kind(image) is None else self.embed_image(image)
        ptr, n, dim, _, _keep = _arrays.rows_in(vector, "image embedding")
        if n != 1 or dim != self.dim:
            raise ValueError(f"the image embedding must hold {self.dim} floats (one vector)")
        out = _arrays.Out(c_float, 1, len(labels))
        check(lib.cbir_model_classify(out.ptr, self._ptr, ptr, _native.cstr_array(labels),
                                      len(labels)))
        return out.row(0)

    def close(self) -> None:
        """Releases the model. Idempotent."""
        handle, self._handle = self._handle, None
        if handle is not None:
            lib.cbir_model_close(handle)

    def __enter__(self) -> "Model":
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
            return "<cbir.Model closed>"
        return f"<cbir.Model {self.info.name!r} dim={self.dim} device={self.info.device!r}>"

