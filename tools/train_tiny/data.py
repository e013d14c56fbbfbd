"""Training pictures and the held-out gallery, with the bundle's own preprocessing.

Pictures take the same way at training time as at search time: JPEG bytes, decoded, squashed
to size x size with bicubic resampling (the bundle's `squash` recipe), then normalised.
"""
import csv
import io
import os
import random
import re

import numpy as np
import torch
from PIL import Image

from captions import canonical_en, canonical_zh
from shapes import CLASSES, jpeg_bytes, render

GALLERY_QUALITY = 85
GALLERY_NAME = re.compile(r"^([a-z]+)_([a-z]+)_(\d+)\.jpg$")


def squash_pixels(img, size):
    """uint8 [3, size, size]: the bundle's `squash` resize (Resize((S, S), BICUBIC))."""
    img = img.convert("RGB").resize((size, size), Image.BICUBIC)
    return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)


def normalise(pixels, mean, std):
    """uint8 [N, 3, S, S] -> float32 normalised with the bundle's mean and std."""
    x = pixels.float() / 255.0
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def training_set(per_class, size, seed):
    """(pixels uint8 [N, 3, size, size], class index [N]): per_class pictures of every class,
    each through a JPEG round trip of random quality, like photos a user would index."""
    pixels, labels = [], []
    for k, (colour, shape) in enumerate(CLASSES):
        for i in range(per_class):
            name = f"train-{seed}-{colour.key}-{shape.key}-{i}"
            quality = random.Random(name + "-q").randint(70, 95)
            img = Image.open(io.BytesIO(jpeg_bytes(render(colour, shape, name), quality)))
            pixels.append(squash_pixels(img, size))
            labels.append(k)
    return torch.stack(pixels), torch.tensor(labels)


def write_gallery(folder, per_class, seed):
    """The held-out gallery: folder/gallery/<colour>_<shape>_<n>.jpg (seeds disjoint from the
    training set's) and folder/queries.tsv, the canonical Chinese and English query of each class."""
    os.makedirs(os.path.join(folder, "gallery"), exist_ok=True)
    for colour, shape in CLASSES:
        for i in range(per_class):
            img = render(colour, shape, f"gallery-{seed}-{colour.key}-{shape.key}-{i}")
            path = os.path.join(folder, "gallery", f"{colour.key}_{shape.key}_{i:02d}.jpg")
            with open(path, "wb") as f:
                f.write(jpeg_bytes(img, GALLERY_QUALITY))
    with open(os.path.join(folder, "queries.tsv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["colour", "shape", "zh", "en"])
        for colour, shape in CLASSES:
            w.writerow([colour.key, shape.key, canonical_zh(colour, shape), canonical_en(colour, shape)])


def read_gallery(folder):
    """[(path, "colour_shape")] sorted by name, and the queries [(label, zh, en)]."""
    files = []
    for name in sorted(os.listdir(os.path.join(folder, "gallery"))):
        m = GALLERY_NAME.match(name)
        if m:
            files.append((os.path.join(folder, "gallery", name), f"{m.group(1)}_{m.group(2)}"))
    with open(os.path.join(folder, "queries.tsv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    queries = [(f"{r['colour']}_{r['shape']}", r["zh"], r["en"]) for r in rows]
    return files, queries
