"""The Python references run with the process settings cbir makes, so that both sides of a
comparison allocate and thread alike.

malloc_reuse(): cbir_model_open() turns on cbir_set_malloc_reuse (cbir.h); glibc otherwise maps
and page-faults every large tensor afresh, which made ViT-B-16 several times slower here.
threads(n, precision): a cbir model opened with `threads = n` gives n to OpenBLAS and 1 to
LibTorch/OpenMP for fp32, the other way round for int8 and bf16, whose matrix products run in
oneDNN (the two pools fight when both are large);
torch's set_num_threads alone leaves OpenBLAS's own pool (which runs fp32 matmuls here) at one
per core."""
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


def threads(n, precision="fp32"):
    """The split cbir makes for a model of this precision (cbir.h, cbir_model_options_t.threads)."""
    import torch
    fp32 = precision == "fp32"
    torch.set_num_threads(1 if fp32 else n)
    try:
        ctypes.CDLL("libblas.so.3").openblas_set_num_threads(n if fp32 else 1)
    except (OSError, AttributeError):
        pass


def native_bf16():
    """Whether the CPU has bf16 instructions (cbir's test: avx512_bf16 or AMX), as /proc/cpuinfo says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = set(f.read().split())
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def bf16(tower, text):
    """A scripted fp32 tower run in bf16 on the CPU as cbir runs it (lib/model/torchscript.cpp):
    an image tower wholly converted, its input cast to bf16; a text tower with only its Linear
    layers converted and each call under autocast (matrix products in bf16, the residual stream
    and LayerNorm in fp32). Returns a callable; converts `tower` in place."""
    import torch
    if not text:
        tower.to(torch.bfloat16)
        return lambda x: tower(x.to(torch.bfloat16))
    for _, sub in tower.named_modules():
        if sub.original_name == "Linear":
            sub.to(torch.bfloat16)

    def run(ids):
        with torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=False):
            return tower(ids)
    return run
