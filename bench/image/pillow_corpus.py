"""cbir's decoding against Pillow over a folder of odd images (for example the test images of the
Pillow repository, Tests/images), through libcbir as a user calls it (the Python binding).

    CBIR_LIBRARY=build/lib/libcbir.so PYTHONPATH=bindings/python \
        /usr/bin/python3 bench/image/pillow_corpus.py DIR [--show EXT,...]

For every file: cbir in a child process, Pillow in this one (its own bomb limit kept); Pillow's open + exif_transpose + convert("RGB") + squash 224 bicubic against
cbir.preprocess_image (the same transform; cbir's resampling equals Pillow's). TIFFs are compared
without exif_transpose: Pillow 9.4 already turns a TIFF upright as it loads it. Counts per file
extension: equal within 1 level, different, refused by cbir where Pillow opens the file, opened
by cbir where Pillow refuses it, refused by both; --show lists the files of those extensions that
differ or that cbir refuses. A crash or hang of cbir is the one result that must never appear:
its side runs in child processes, 60 s a file.
"""
import argparse
import collections
import concurrent.futures
import os
import sys

import numpy as np


def cbir_side(path):
    """cbir's pixels, or its error message; runs in a child process (a crash must show)."""
    import cbir
    try:
        return np.asarray(cbir.preprocess_image(path)), None
    except cbir.Error as e:
        return None, str(e)[-100:]


def pillow_side(path):
    """Pillow's pixels, or None where Pillow refuses the file (its own bomb limit kept)."""
    from PIL import Image, ImageOps
    ext = path.rsplit(".", 1)[-1].lower()
    try:
        im = Image.open(path)
        upright = im if ext in ("tif", "tiff") else ImageOps.exif_transpose(im)
        return np.asarray(upright.convert("RGB").resize((224, 224), Image.BICUBIC))
    except Exception:  # noqa: BLE001 - whatever Pillow refuses
        return None


def classify(got, error, want):
    if got is None:
        return ("refused by both" if want is None else "cbir refuses, Pillow opens"), error
    if want is None:
        return "cbir opens, Pillow refuses", ""
    diff = int(np.abs(got.astype(int) - want.astype(int)).max())
    return ("equal within 1" if diff <= 1 else "different"), f"max difference {diff}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder")
    p.add_argument("--show", default="", help="comma-separated extensions whose misses to list")
    args = p.parse_args()
    files = sorted(os.path.join(args.folder, f) for f in os.listdir(args.folder)
                   if os.path.isfile(os.path.join(args.folder, f)))
    counts, misses = collections.Counter(), []
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        futures = {f: pool.submit(cbir_side, f) for f in files}
        for f, fut in futures.items():
            ext = f.rsplit(".", 1)[-1].lower()
            try:
                got, error = fut.result(timeout=60)
                result, detail = classify(got, error, pillow_side(f))
            except concurrent.futures.TimeoutError:
                result, detail = "HANG", ""
            except concurrent.futures.process.BrokenProcessPool:
                sys.exit(f"pillow_corpus.py: cbir CRASHED on {f}")
            counts[(ext, result)] += 1
            if ext in args.show.split(",") and result in ("different", "cbir refuses, Pillow opens"):
                misses.append(f"{os.path.basename(f)}: {result}: {detail}")
    print("| extension | outcome | files |\n| --- | --- | ---: |")
    for (ext, outcome), n in sorted(counts.items()):
        print(f"| {ext} | {outcome} | {n} |")
    for m in misses:
        print(m)
    return 1 if any(o == "HANG" for _, o in counts) else 0


if __name__ == "__main__":
    sys.exit(main())
