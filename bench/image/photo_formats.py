"""Decode + preprocess of a 12-megapixel photo in the photo formats: libcbir (through the Python
binding, as a user calls it) against Pillow 9.4 doing the same work, same files, same run.

    CBIR_LIBRARY=build/lib/libcbir.so PYTHONPATH=bindings/python \
        /usr/bin/python3 bench/image/photo_formats.py [--rounds 3] [--json PATH]

One 4000x3000 photo-like picture is written as WebP (lossy q90, Pillow's libwebp), TIFF (LZW,
Pillow's libtiff), HEIC (heif-enc -q 90), and as GIF (adaptive palette) and 24-bit BMP, whose
readers are cbir's own. Each side turns a file into the 224x224 RGB pixels
of Chinese-CLIP's squash: cbir.preprocess_image(path); Pillow's Image.open(path).convert('RGB')
.resize((224, 224), BICUBIC). Pillow 9.4 cannot open HEIC (pillow-heif is not in Debian), so the
HEIC reference is what a Python user does instead: heif-convert (libheif's tool) to a PNG, then
Pillow on that PNG; it pays for writing and reading the PNG, which cbir does not. Wall time per
file, sides alternating for N rounds, best round of each.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
from run import photo_like  # noqa: E402

import cbir  # noqa: E402


def pillow_squash(path):
    return np.asarray(Image.open(path).convert("RGB").resize((224, 224), Image.BICUBIC))


def heif_then_pillow(path, scratch):
    png = os.path.join(scratch, "converted.png")
    subprocess.run(["heif-convert", path, png], check=True, capture_output=True)
    return pillow_squash(png)


def best(fn, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", default="")
    args = p.parse_args()
    scratch = tempfile.mkdtemp(prefix="cbir-bench-formats-")
    try:
        img = photo_like(4000, 3000, seed=1)
        files = {}
        if "webp" in cbir.image_formats():
            files["webp"] = os.path.join(scratch, "photo.webp")
            img.save(files["webp"], quality=90)
        if "tiff" in cbir.image_formats():
            files["tiff"] = os.path.join(scratch, "photo.tif")
            img.save(files["tiff"], compression="tiff_lzw")
        # The readers of our own that replaced stb_image (GIF, BMP): always compiled in.
        files["gif"] = os.path.join(scratch, "photo.gif")
        img.convert("P", palette=Image.ADAPTIVE).save(files["gif"])
        files["bmp"] = os.path.join(scratch, "photo.bmp")
        img.save(files["bmp"])
        if "heic" in cbir.image_formats() and shutil.which("heif-enc") and shutil.which("heif-convert"):
            src = os.path.join(scratch, "photo.png")
            img.save(src)
            files["heic"] = os.path.join(scratch, "photo.heic")
            subprocess.run(["heif-enc", "-q", "90", src, "-o", files["heic"]], check=True,
                           capture_output=True)
        rows = []
        print("| format (4000x3000) | file MB | cbir ms | reference ms | reference | cbir's advantage "
              "| max pixel difference |")
        print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
        for fmt, path in files.items():
            if fmt == "heic":
                ref, what = (lambda: heif_then_pillow(path, scratch)), "heif-convert to PNG + Pillow"
            else:
                ref, what = (lambda: pillow_squash(path)), "Pillow 9.4"
            ours = lambda: cbir.preprocess_image(path)  # noqa: E731
            diff = int(np.abs(np.asarray(ours()).astype(int) - ref().astype(int)).max())
            t_cbir, t_ref = [], []
            for _ in range(args.rounds):  # alternate, so both see the same machine
                t_cbir.append(best(ours, 1))
                t_ref.append(best(ref, 1))
            c, r = min(t_cbir) * 1e3, min(t_ref) * 1e3
            rows.append({"format": fmt, "bytes": os.path.getsize(path), "cbir_ms": c,
                         "reference_ms": r, "reference": what, "max_difference": diff})
            print(f"| {fmt} | {os.path.getsize(path) / 1e6:.1f} | {c:.0f} | {r:.0f} | {what} | "
                  f"{r / c:.2f}x | {diff} |")
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump({"benchmark": "photo_formats", "rows": rows}, f, indent=1)
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
