"""The C ABI of libcbir (include/cbir.h) as ctypes declarations, and the loaded library.

Structs mirror the header field for field; the tests compare their layouts with what a C
compiler makes of cbir.h. Nothing here is public: the classes in model.py and collection.py
are the binding's interface.
"""
import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int, c_int32,
                    c_int64, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p)

#: The major version of the C API these declarations are written against.
ABI_MAJOR = 0

c_float_p = POINTER(c_float)
c_int32_p = POINTER(c_int32)
c_int64_p = POINTER(c_int64)


class ModelOptions(Structure):
    _fields_ = [("version", c_uint32), ("device", c_char_p), ("precision", c_int32),
                ("threads", c_int32), ("batch_size", c_int32), ("verify_hashes", c_int32),
                ("exif_orientation", c_int32), ("fast_decode", c_int32),
                ("max_pixels", c_uint64), ("towers", c_uint32)]


class ModelInfo(Structure):
    _fields_ = [("version", c_uint32), ("name", c_char_p), ("family", c_char_p),
                ("fingerprint", c_char_p), ("precision", c_char_p), ("device", c_char_p),
                ("path", c_char_p), ("dim", c_int32), ("has_image", c_int32),
                ("has_text", c_int32), ("context_length", c_int32), ("logit_scale", c_float),
                ("batch_size", c_int32), ("resize", c_int32), ("image_size", c_int32),
                ("image_crop", c_int32), ("input_side", c_int32), ("interpolation", c_int32),
                ("mean", c_float * 3), ("std", c_float * 3), ("pooling", c_char_p),
                ("compute_precision", c_char_p), ("resize_before_rgb", c_int32)]


class Pixels(Structure):
    _fields_ = [("data", c_void_p), ("width", c_int32), ("height", c_int32),
                ("stride", c_size_t), ("format", c_int32)]


class CollectionOptions(Structure):
    _fields_ = [("version", c_uint32), ("flags", c_uint32), ("dim", c_int32),
                ("fingerprint", c_char_p), ("index_spec", c_char_p),
                ("memory_budget_mb", c_uint64), ("space", c_char_p)]


class Item(Structure):
    _fields_ = [("id", c_int64), ("uri", c_char_p), ("content_hash", c_char_p),
                ("size", c_int64), ("mtime", c_int64), ("width", c_int32),
                ("height", c_int32), ("payload", c_char_p)]


class Photo(Structure):
    _fields_ = [("format", c_char_p), ("has_taken", c_int32), ("taken", c_int64),
                ("has_offset", c_int32), ("offset_minutes", c_int32), ("make", c_char_p),
                ("model", c_char_p), ("has_location", c_int32), ("lat", c_double),
                ("lon", c_double)]


class Attr(Structure):
    _fields_ = [("id", c_int64), ("key", c_char_p), ("type", c_int32), ("int_value", c_int64),
                ("float_value", c_double), ("string_value", c_char_p)]


class QueryPart(Structure):
    _fields_ = [("kind", c_int32), ("weight", c_float), ("text", c_char_p), ("data", c_void_p),
                ("size", c_size_t), ("vector", c_float_p), ("id", c_int64)]


class SearchOptions(Structure):
    _fields_ = [("version", c_uint32), ("min_score", c_float), ("uri_prefix", c_char_p),
                ("ids", c_int64_p), ("n_ids", c_size_t), ("ef_search", c_int32),
                ("nprobe", c_int32), ("where", c_char_p), ("space", c_char_p)]


class SpaceVectors(Structure):
    _fields_ = [("space", c_char_p), ("vectors", c_float_p), ("dim", c_size_t)]


class SpaceModel(Structure):
    _fields_ = [("space", c_char_p), ("model", c_void_p)]


class SpaceInfo(Structure):
    _fields_ = [("name", c_char_p), ("fingerprint", c_char_p), ("index_spec", c_char_p),
                ("effective_spec", c_char_p), ("dim", c_int32), ("first", c_int32),
                ("count", c_uint64), ("generation", c_int64)]


class CollectionInfo(Structure):
    _fields_ = [("path", c_char_p), ("fingerprint", c_char_p), ("index_spec", c_char_p),
                ("effective_spec", c_char_p), ("dim", c_int32), ("read_only", c_int32),
                ("count", c_uint64), ("masked", c_uint64), ("seq", c_int64),
                ("generation", c_int64)]


class IngestProgress(Structure):
    _fields_ = [("done", c_uint64), ("total", c_uint64), ("added", c_uint64),
                ("failed", c_uint64), ("seconds", c_double), ("rate", c_double),
                ("eta_seconds", c_double)]


PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, POINTER(IngestProgress))
LOG_FN = CFUNCTYPE(None, c_void_p, c_int32, c_char_p)
VERIFY_FN = CFUNCTYPE(None, c_void_p, c_char_p, c_int32, c_char_p)


class IngestOptions(Structure):
    _fields_ = [("version", c_uint32), ("recursive", c_int32), ("follow_symlinks", c_int32),
                ("extensions", c_char_p), ("workers", c_int32), ("commit_every", c_int32),
                ("prune", c_int32), ("fast_decode", c_int32), ("progress", PROGRESS_FN),
                ("progress_user", c_void_p)]


class IngestSummary(Structure):
    _fields_ = [("version", c_uint32), ("found", c_uint64), ("added", c_uint64),
                ("updated", c_uint64), ("unchanged", c_uint64), ("duplicates", c_uint64),
                ("failed", c_uint64), ("removed", c_uint64), ("cancelled", c_int32),
                ("seconds", c_double), ("filled", c_uint64)]


class TokenizerOptions(Structure):
    _fields_ = [("version", c_uint32), ("lower_case", c_int32)]


class PreprocessOptions(Structure):
    _fields_ = [("version", c_uint32), ("resize", c_int32), ("size", c_int32), ("crop", c_int32),
                ("interpolation", c_int32), ("exif_orientation", c_int32),
                ("fast_decode", c_int32), ("max_pixels", c_uint64),
                ("resize_before_rgb", c_int32)]


# Opaque handles are plain void pointers on this side.
HANDLE = c_void_p
HANDLE_P = POINTER(c_void_p)

# name: (restype, argtypes). One line per function of cbir.h that the binding uses.
_PROTOTYPES = {
    "cbir_version_number": (c_int32, []),
    "cbir_version_string": (c_char_p, []),
    "cbir_status_str": (c_char_p, [c_int]),
    "cbir_last_error": (c_char_p, []),
    "cbir_free": (None, [c_void_p]),
    "cbir_set_log_callback": (None, [LOG_FN, c_void_p, c_int32]),
    "cbir_features": (c_uint32, []),
    "cbir_cpu_features": (c_char_p, []),
    "cbir_image_formats": (c_char_p, []),
    "cbir_build_info": (c_char_p, []),
    "cbir_set_threads": (c_int, [c_int32]),
    "cbir_set_malloc_reuse": (c_int, [c_int32]),
    "cbir_tokenizer_options_init": (None, [POINTER(TokenizerOptions)]),
    "cbir_tokenizer_open": (c_int, [HANDLE_P, c_char_p, POINTER(TokenizerOptions)]),
    "cbir_tokenizer_close": (None, [HANDLE]),
    "cbir_tokenize": (c_int, [c_int64_p, c_int32_p, HANDLE, POINTER(c_char_p), c_size_t,
                              c_size_t]),
    "cbir_tokenizer_vocab_size": (c_size_t, [HANDLE]),
    "cbir_tokenizer_token": (c_char_p, [HANDLE, c_int64]),
    "cbir_preprocess_options_init": (None, [POINTER(PreprocessOptions)]),
    "cbir_image_preprocess_file": (c_int, [POINTER(POINTER(c_uint8)), c_int32_p, c_int32_p,
                                           c_char_p, POINTER(PreprocessOptions)]),
    "cbir_image_preprocess_buffer": (c_int, [POINTER(POINTER(c_uint8)), c_int32_p, c_int32_p,
                                             c_void_p, c_size_t, POINTER(PreprocessOptions)]),
    "cbir_image_probe_file": (c_int, [c_int32_p, c_int32_p, c_char_p,
                                      POINTER(PreprocessOptions)]),
    "cbir_image_probe_buffer": (c_int, [c_int32_p, c_int32_p, c_void_p, c_size_t,
                                        POINTER(PreprocessOptions)]),
    "cbir_model_tokenizer": (c_int, [HANDLE_P, HANDLE]),
    "cbir_model_options_init": (None, [POINTER(ModelOptions)]),
    "cbir_model_open": (c_int, [HANDLE_P, c_char_p, POINTER(ModelOptions)]),
    "cbir_model_close": (None, [HANDLE]),
    "cbir_model_info": (c_int, [POINTER(ModelInfo), HANDLE]),
    "cbir_model_embed_texts": (c_int, [c_float_p, HANDLE, POINTER(c_char_p), c_size_t]),
    "cbir_model_embed_image_files": (c_int, [c_float_p, c_int32_p, HANDLE, POINTER(c_char_p),
                                             c_size_t]),
    "cbir_model_embed_image_buffers": (c_int, [c_float_p, c_int32_p, HANDLE, POINTER(c_void_p),
                                               POINTER(c_size_t), c_size_t]),
    "cbir_model_embed_image_pixels": (c_int, [c_float_p, c_int32_p, HANDLE, POINTER(Pixels),
                                              c_size_t]),
    "cbir_model_item_error": (c_char_p, [c_size_t]),
    "cbir_model_classify": (c_int, [c_float_p, HANDLE, c_float_p, POINTER(c_char_p), c_size_t]),
    "cbir_collection_options_init_size": (None, [POINTER(CollectionOptions), c_size_t]),
    "cbir_search_options_init_size": (None, [POINTER(SearchOptions), c_size_t]),
    "cbir_collection_add_space": (c_int, [HANDLE, c_char_p, c_int32, c_char_p, c_char_p]),
    "cbir_collection_add_spaces": (c_int, [c_int64_p, HANDLE, POINTER(Item), c_size_t,
                                           POINTER(SpaceVectors), c_size_t, c_int32]),
    "cbir_collection_set_space_vectors": (c_int, [HANDLE, c_char_p, c_int64_p, c_float_p,
                                                  c_size_t, c_size_t]),
    "cbir_collection_get_space_vector": (c_int, [c_float_p, c_size_t, HANDLE, c_char_p,
                                                 c_int64]),
    "cbir_collection_rebuild_space": (c_int, [HANDLE, c_char_p, c_char_p]),
    "cbir_collection_spaces": (c_int, [POINTER(POINTER(SpaceInfo)), POINTER(c_size_t), HANDLE]),
    "cbir_collection_open": (c_int, [HANDLE_P, c_char_p, POINTER(CollectionOptions)]),
    "cbir_collection_close": (None, [HANDLE]),
    "cbir_collection_add": (c_int, [c_int64_p, HANDLE, POINTER(Item), c_float_p, c_size_t,
                                    c_size_t]),
    "cbir_collection_upsert": (c_int, [c_int64_p, HANDLE, POINTER(Item), c_float_p, c_size_t,
                                       c_size_t]),
    "cbir_collection_remove": (c_int, [POINTER(c_size_t), HANDLE, c_int64_p, c_size_t]),
    "cbir_collection_remove_uri": (c_int, [HANDLE, c_char_p]),
    "cbir_collection_get": (c_int, [POINTER(POINTER(Item)), HANDLE, c_int64]),
    "cbir_collection_find": (c_int, [c_int64_p, HANDLE, c_char_p]),
    "cbir_collection_duplicates": (c_int, [POINTER(c_int64_p), POINTER(POINTER(c_size_t)),
                                           POINTER(c_size_t), HANDLE, c_float,
                                           POINTER(SearchOptions), c_void_p, c_void_p]),
    "cbir_query_compose": (c_int, [c_float_p, c_size_t, HANDLE, HANDLE, POINTER(QueryPart),
                                   c_size_t]),
    "cbir_collection_get_photo": (c_int, [POINTER(POINTER(Photo)), HANDLE, c_int64]),
    "cbir_collection_set_attrs": (c_int, [POINTER(c_size_t), HANDLE, POINTER(Attr), c_size_t]),
    "cbir_collection_get_attrs": (c_int, [POINTER(POINTER(Attr)), POINTER(c_size_t), HANDLE,
                                          c_int64]),
    "cbir_collection_get_vector": (c_int, [c_float_p, c_size_t, HANDLE, c_int64]),
    "cbir_collection_list": (c_int, [c_int64_p, POINTER(c_size_t), HANDLE, c_int64, c_size_t]),
    "cbir_collection_count": (c_int, [POINTER(c_uint64), HANDLE]),
    "cbir_collection_search": (c_int, [c_int64_p, c_float_p, HANDLE, c_float_p, c_size_t,
                                       c_size_t, c_size_t, POINTER(SearchOptions)]),
    "cbir_collection_search_similar": (c_int, [c_int64_p, c_float_p, HANDLE, c_int64, c_size_t,
                                               POINTER(SearchOptions)]),
    "cbir_collection_range_search": (c_int, [POINTER(c_int64_p), POINTER(c_float_p),
                                             POINTER(c_size_t), HANDLE, c_float_p, c_size_t,
                                             c_float, POINTER(SearchOptions)]),
    "cbir_collection_commit": (c_int, [HANDLE]),
    "cbir_collection_save": (c_int, [HANDLE]),
    "cbir_collection_refresh": (c_int, [HANDLE]),
    "cbir_collection_rebuild": (c_int, [HANDLE, c_char_p]),
    "cbir_collection_compact": (c_int, [HANDLE]),
    "cbir_collection_verify": (c_int, [HANDLE]),
    "cbir_collection_verify_report": (c_int, [HANDLE, VERIFY_FN, c_void_p]),
    "cbir_collection_backup": (c_int, [HANDLE, c_char_p]),
    "cbir_collection_info": (c_int, [POINTER(POINTER(CollectionInfo)), HANDLE]),
    "cbir_ingest_options_init": (None, [POINTER(IngestOptions)]),
    "cbir_ingest_dir": (c_int, [HANDLE_P, HANDLE, HANDLE, c_char_p, POINTER(IngestOptions)]),
    "cbir_ingest_files": (c_int, [HANDLE_P, HANDLE, HANDLE, POINTER(c_char_p), c_size_t,
                                  POINTER(IngestOptions)]),
    "cbir_ingest_dir_spaces": (c_int, [HANDLE_P, HANDLE, POINTER(SpaceModel), c_size_t, c_char_p,
                                       POINTER(IngestOptions)]),
    "cbir_ingest_files_spaces": (c_int, [HANDLE_P, HANDLE, POINTER(SpaceModel), c_size_t,
                                         POINTER(c_char_p), c_size_t, POINTER(IngestOptions)]),
    "cbir_ingest_report_summary": (c_int, [POINTER(IngestSummary), HANDLE]),
    "cbir_ingest_report_failures": (c_size_t, [HANDLE]),
    "cbir_ingest_report_failure": (c_int, [HANDLE, c_size_t, POINTER(c_char_p), c_int32_p,
                                           POINTER(c_char_p)]),
    "cbir_ingest_report_free": (None, [HANDLE]),
}


def _candidates():
    explicit = os.environ.get("CBIR_LIBRARY")
    if explicit:
        return [explicit]
    found = ctypes.util.find_library("cbir")
    names = [found] if found else []
    return names + [f"libcbir.so.{ABI_MAJOR}", "libcbir.so", "libcbir.dylib"]


def _load():
    errors = []
    for name in _candidates():
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError as e:
            errors.append(f"{name}: {e}")
    else:
        raise ImportError("cbir: cannot load libcbir (" + "; ".join(errors) + "). Install libcbir "
                          "where the dynamic loader finds it, or set CBIR_LIBRARY to the path of "
                          "libcbir.so")
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise ImportError(f"cbir: {lib._name} has no {name}: the library is older than this "
                              "binding; install a matching libcbir") from None
        fn.restype = restype
        fn.argtypes = argtypes
    major = lib.cbir_version_number() // 10000
    if major != ABI_MAJOR:
        raise ImportError(f"cbir: {lib._name} is version {lib.cbir_version_string().decode()}, "
                          f"but this binding speaks the C API of major version {ABI_MAJOR}")
    return lib


lib = _load()


def text(ptr):
    """A borrowed C string as str (None stays None)."""
    return None if ptr is None else ptr.decode("utf-8", "replace")


def cstr(s):
    """str or os.PathLike -> bytes for a `const char*` (None stays NULL)."""
    if s is None:
        return None
    if isinstance(s, bytes):
        return s
    if isinstance(s, str):
        return s.encode("utf-8")
    return os.fsencode(s)


def cstr_array(strings):
    """A `const char* const*` array; keep the returned object alive for the call."""
    encoded = [cstr(s) for s in strings]
    for i, s in enumerate(encoded):
        if s is None:
            raise TypeError(f"item {i} is None; expected a string")
    return (c_char_p * max(1, len(encoded)))(*encoded)


uint8_p = POINTER(c_uint8)
