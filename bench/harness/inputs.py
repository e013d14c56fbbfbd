"""What the benchmarks need, made once and cached under bench/out/: the Release build and the
model bundles (through the real exporter). bench/ingest makes and caches its own JPEG photos."""
import os
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def build(build_dir, log):
    """libcbir and the cbir command; a new build folder is configured for Release, an existing
    one is kept as configured (CI reuses its test build). Returns its CMAKE_BUILD_TYPE."""
    cache = os.path.join(build_dir, "CMakeCache.txt")
    if not os.path.isfile(cache):
        subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                        "-DCBIR_BUILD_TESTS=OFF", "-DCBIR_BUILD_EXAMPLES=OFF", "-DCBIR_BUILD_CLI=ON"],
                       check=True, stdout=log, stderr=subprocess.STDOUT)
    subprocess.run(["cmake", "--build", build_dir, "--target", "cbir", "cbir_cli", "-j2"], check=True,
                   stdout=log, stderr=subprocess.STDOUT)
    with open(cache, encoding="utf-8") as f:
        return next((l.split("=", 1)[1].strip() for l in f if l.startswith("CMAKE_BUILD_TYPE:")), "")


def bundle_paths(folder):
    return {size: {"fp32": os.path.join(folder, key), "int8": os.path.join(folder, key + "-int8")}
            for size, key in (("full", "full-vit-b-16"), ("tiny", "cnclip-vit"))}


def models(folder, full_size, log):
    """Bundle folders: {"full": {"fp32": DIR, "int8": DIR}, "tiny": {...}}. Full (made only when
    full_size): Chinese-CLIP ViT-B-16 + RoBERTa-base at full size with random weights (minutes
    and ~1.5 GB the first time); tiny: the test bundles (seconds)."""
    bundles = bundle_paths(folder)
    needed = [b for size in (("full", "tiny") if full_size else ("tiny",)) for b in bundles[size].values()]
    if not all(os.path.isfile(os.path.join(b, "bundle.json")) for b in needed):
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "export", "make_test_models.py"), folder,
                        *(["--full-size"] if full_size else [])], check=True, stdout=log, stderr=subprocess.STDOUT)
    return bundles
