"""Decode + preprocess per image: lib/image against Pillow + torchvision doing the same work, on
the same JPEGs, same machine, same run.

    /usr/bin/python3 bench/image/run.py [--seconds S] [--rounds N] [--json PATH]

The JPEGs (640x480, 2000x1500, 4000x3000, quality 90, photo-like content) are made with Pillow
in a temporary folder. Each side turns a file into the float CHW tensor a model takes:
  Python: T.Compose([Resize(...), (CenterCrop(224),) ToTensor(), Normalize(...)]) applied to
          Image.open(path).convert('RGB')   (torch on 1 thread)
  cbir:   decode_file -> resize_for -> normalize_chw (bench_image.cpp, built here from lib/image)
clip = Chinese-CLIP's Resize((224, 224), BICUBIC); dino = DINOv2's Resize(256, BICUBIC) then
CenterCrop(224). The uint8 pixels before normalisation are compared: exact mode must equal
Pillow's; fast mode (reduced-scale JPEG decoding) reports its mean and max difference.
Times are CPU time per image on one thread (time.process_time, std::clock), so that other load on
a shared machine distorts them less; both sides alternate for N rounds and each figure is the
best round.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SIZES = [(640, 480), (2000, 1500), (4000, 3000)]
BICUBIC = T.InterpolationMode.BICUBIC
RESIZE = {"clip": [T.Resize((224, 224), interpolation=BICUBIC)],
          "dino": [T.Resize(256, interpolation=BICUBIC), T.CenterCrop(224)]}
NORMALIZE = {"clip": T.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
             "dino": T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))}


def photo_like(width, height, seed):
    """Smooth shapes plus fine texture and sensor-like noise: compresses like a photo at q90."""
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize((width, height), Image.BICUBIC)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    texture = 18 * np.sin(x / 7.0 + np.sin(y / 23.0) * 3) * np.cos(y / 11.0)
    noise = rng.normal(0, 4, (height, width, 1))
    pixels = np.asarray(base, np.float32) + texture[..., None] + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def build_bench(tmp):
    exe = os.path.join(tmp, "bench_image")
    sources = [os.path.join(HERE, "bench_image.cpp"), os.path.join(ROOT, "lib", "common", "log.cpp")]
    # The JPEG and PNG path only: the optional photo-format decoders (decode_webp.cpp, ...) are
    # left out, and decode.cpp compiled without them refuses those formats.
    optional = {"decode_webp.cpp", "decode_tiff.cpp", "decode_heif.cpp", "decode_jxl.cpp"}
    sources += sorted(os.path.join(ROOT, "lib", "image", f) for f in os.listdir(os.path.join(ROOT, "lib", "image"))
                      if f.endswith(".cpp") and f not in optional)
    subprocess.run(["c++", "-std=c++17", "-O2", "-DNDEBUG", "-I", os.path.join(ROOT, "include"),
                    "-I", os.path.join(ROOT, "lib"), *sources, "-o", exe, "-lturbojpeg", "-lexif", "-pthread"],
                   check=True)
    return exe


def time_python(transform, path, seconds):
    tf = T.Compose(RESIZE[transform] + [T.ToTensor(), NORMALIZE[transform]])
    tf(Image.open(path).convert("RGB"))
    done, start = 0, time.process_time()
    while True:
        tf(Image.open(path).convert("RGB"))
        done += 1
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return 1000 * elapsed / done


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", help="also write the figures here (for bench/run)")
    args = ap.parse_args()
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory() as tmp:
        exe = build_bench(tmp)
        files = {}
        for i, (w, h) in enumerate(SIZES):
            files[(w, h)] = os.path.join(tmp, f"photo_{w}x{h}.jpg")
            photo_like(w, h, i).save(files[(w, h)], quality=90)
        cases = [(t, fast, size) for size in SIZES for t in ("clip", "dino") for fast in (0, 1)]
        specs = [f"{t},{fast},{files[size]}" for t, fast, size in cases]
        py = {}
        cpp = {}
        for _ in range(args.rounds):
            out = subprocess.run([exe, str(args.seconds / 2), tmp, *specs], check=True,
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                ms, spec = line.split()
                cpp[spec] = min(cpp.get(spec, 1e9), float(ms))
            for t, size in {(t, size) for t, _, size in cases}:
                ms = time_python(t, files[size], args.seconds)
                py[(t, size)] = min(py.get((t, size), 1e9), ms)

        print(f"decode + preprocess to a normalised 3x224x224 float tensor, CPU ms per image, 1 thread,"
              f" best of {args.rounds} rounds")
        print("| image | transform | Pillow + torchvision | cbir exact | speed-up | cbir fast | speed-up "
              "| fast vs exact: mean / max abs diff |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        rows = []
        for size in SIZES:
            for t in ("clip", "dino"):
                ref = np.asarray(T.Compose(RESIZE[t])(Image.open(files[size]).convert("RGB")))
                pixels = {}
                for fast in (0, 1):
                    index = cases.index((t, fast, size))
                    with open(os.path.join(tmp, f"{index}.rgb"), "rb") as f:
                        pixels[fast] = np.frombuffer(f.read(), np.uint8).reshape(ref.shape)
                if not np.array_equal(pixels[0], ref):
                    sys.exit(f"exact mode differs from Pillow on {size} {t}: the timing would mean nothing")
                diff = np.abs(pixels[1].astype(int) - pixels[0])
                exact, fast = cpp[specs[cases.index((t, 0, size))]], cpp[specs[cases.index((t, 1, size))]]
                p = py[(t, size)]
                print(f"| {size[0]}x{size[1]} | {t} | {p:.1f} | {exact:.1f} | {p / exact:.1f}x | {fast:.1f} | "
                      f"{p / fast:.1f}x | {diff.mean():.2f} / {diff.max()} |")
                rows.append({"width": size[0], "height": size[1], "transform": t, "python_ms": p,
                             "cbir_exact_ms": exact, "cbir_fast_ms": fast,
                             "fast_mean_abs_diff": float(diff.mean()), "fast_max_abs_diff": int(diff.max())})
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump({"rounds": args.rounds, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
