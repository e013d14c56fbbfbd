"""The Python references run with the process settings cbir makes, so that both sides of a
comparison allocate and thread alike.

malloc_reuse(): cbir_model_open() turns on cbir_set_malloc_reuse (cbir.h); glibc otherwise maps
and page-faults every large tensor afresh, which made ViT-B-16 several times slower here.
threads(n): cbir_set_threads(n) sizes LibTorch's, OpenMP's and OpenBLAS's pools; torch's
set_num_threads leaves OpenBLAS's own pool (which runs fp32 matmuls here) at one per core."""
import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # <malloc.h>


def malloc_reuse():
    """True when glibc took the setting (32 MiB mmap threshold, 1 GiB trim threshold)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30))
    except (OSError, AttributeError):
        return False


def threads(n):
    """torch.set_num_threads(n), and OpenBLAS's pool to n where libblas.so.3 is OpenBLAS."""
    import torch
    torch.set_num_threads(n)
    try:
        ctypes.CDLL("libblas.so.3").openblas_set_num_threads(n)
    except (OSError, AttributeError):
        pass
