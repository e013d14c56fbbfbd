"""Decoding and preprocessing without a model (cbir_image_*): the pixels an encoder sees."""
import ctypes
import os
from ctypes import POINTER, byref, c_char_p, c_int32, c_uint8, c_void_p
from typing import Tuple, Union

from . import _arrays, _native
from ._native import lib
from .errors import check

ImageSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]

_RESIZE = {"squash": 0, "center_crop": 1}
_INTERPOLATION = {"bicubic": 0, "bilinear": 1}


def _options(resize="squash", size=224, crop=224, interpolation="bicubic",
             exif_orientation=True, fast_decode=False, max_pixels=0, resize_before_rgb=False):
    if resize not in _RESIZE:
        raise ValueError(f"resize must be one of {sorted(_RESIZE)}, not {resize!r}")
    if interpolation not in _INTERPOLATION:
        raise ValueError(f"interpolation must be one of {sorted(_INTERPOLATION)}, "
                         f"not {interpolation!r}")
    opts = _native.PreprocessOptions()
    lib.cbir_preprocess_options_init(byref(opts))
    opts.resize, opts.size, opts.crop = _RESIZE[resize], size, crop
    opts.interpolation = _INTERPOLATION[interpolation]
    opts.exif_orientation, opts.fast_decode = int(exif_orientation), int(fast_decode)
    opts.max_pixels = max_pixels
    opts.resize_before_rgb = int(resize_before_rgb)
    return opts


def _call(image, on_file, on_buffer, outputs, opts):
    """Calls the _file or the _buffer function for `image`: (outputs..., source, opts)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        return on_buffer(*outputs, ctypes.cast(c_char_p(data), c_void_p), len(data), byref(opts))
    if isinstance(image, (str, os.PathLike)):
        return on_file(*outputs, _native.cstr(image), byref(opts))
    raise TypeError(f"an image is a path or encoded bytes, not {type(image).__name__}")


def preprocess_image(image: ImageSource, *, resize: str = "squash", size: int = 224,
                     crop: int = 224, interpolation: str = "bicubic",
                     exif_orientation: bool = True, fast_decode: bool = False,
                     max_pixels: int = 0, resize_before_rgb: bool = False):
    """Decodes an image (a path or encoded bytes) and resizes it as an encoder's recipe does:
    resize="squash" gives size x size (Chinese-CLIP), "center_crop" makes the shorter side
    `size` then crops crop x crop (DINOv2). resize_before_rgb=True resizes in the file's own
    mode and converts to RGB after, as Chinese-CLIP's transform does (palette images by nearest
    neighbour, RGBA premultiplied). Returns (H, W, 3) uint8 RGB, as a numpy array (a
    (bytes, height, width) tuple without numpy). Raises ImageError, NotFoundError, ..."""
    opts = _options(resize, size, crop, interpolation, exif_orientation, fast_decode, max_pixels,
                    resize_before_rgb)
    pixels, height, width = POINTER(c_uint8)(), c_int32(), c_int32()
    check(_call(image, lib.cbir_image_preprocess_file, lib.cbir_image_preprocess_buffer,
                (byref(pixels), byref(height), byref(width)), opts))
    try:
        data = ctypes.string_at(pixels, height.value * width.value * 3)
    finally:
        lib.cbir_free(pixels)
    if _arrays.np is None:
        return data, height.value, width.value
    return _arrays.np.frombuffer(bytearray(data), _arrays.np.uint8).reshape(height.value, width.value, 3)


def probe_image(image: ImageSource, *, exif_orientation: bool = True,
                max_pixels: int = 0) -> Tuple[int, int]:
    """Decodes an image completely, as embedding it would, and gives its upright
    (height, width): fails where embedding would. Raises ImageError, NotFoundError, ..."""
    opts = _options(exif_orientation=exif_orientation, max_pixels=max_pixels)
    height, width = c_int32(), c_int32()
    check(_call(image, lib.cbir_image_probe_file, lib.cbir_image_probe_buffer,
                (byref(height), byref(width)), opts))
    return height.value, width.value
