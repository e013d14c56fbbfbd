"""The Python references run with the malloc setting cbir_model_open() makes (cbir.h,
cbir_set_malloc_reuse), so that both sides of a comparison allocate alike: glibc otherwise maps
and page-faults every large tensor afresh, which made ViT-B-16 several times slower here."""
import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # <malloc.h>


def reuse_like_cbir():
    """True when glibc took the setting (32 MiB mmap threshold, 1 GiB trim threshold)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))
    except (OSError, AttributeError):
        return False
