"""What the benchmarks ran on: cores, CPU model, memory, BLAS, thread settings, load, commit."""
import os
import platform
import subprocess


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return platform.processor() or "unknown", ""
    model = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("model name")), "unknown")
    flags = next((l.split(":", 1)[1].split() for l in lines if l.startswith("flags")), [])
    simd = " ".join(f for f in ("sse4_2", "avx", "avx2", "avx512f", "fma") if f in flags)
    return model, simd


def _mem_gib():
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
        return round(kb / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        return None


def _blas():
    """The libblas.so.3 the Debian alternatives point at (OpenBLAS pthread/openmp, reference)."""
    for path in ("/usr/lib/x86_64-linux-gnu/libblas.so.3", "/usr/lib/aarch64-linux-gnu/libblas.so.3"):
        if os.path.exists(path):
            return os.path.realpath(path)
    return "unknown"


def _git(root):
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], check=True,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               check=True, capture_output=True, text=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def describe(root):
    model, simd = _cpu_model()
    threads = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                          "OMP_WAIT_POLICY") if k in os.environ}
    return {"cores": os.cpu_count(), "cpu": model, "simd": simd, "memory_gib": _mem_gib(),
            "kernel": platform.release(), "blas": _blas(), "thread_env": threads or "none set",
            "commit": _git(root), "load_before": os.getloadavg()}
