"""Synthetic pictures for the tiny default model: one coloured shape on a background.

Every picture is a pure function of its seed string, so the training set and the shipped
gallery can be re-rendered bit for bit on any machine with the same Pillow and NumPy.
"""
import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw


@dataclass(frozen=True)
class Colour:
    key: str           # English key, used in file names
    zh: tuple          # Chinese names; the first is the canonical query word
    en: tuple          # English names; the first is the canonical query word
    rgb: tuple         # base colour; each picture jitters it a little


@dataclass(frozen=True)
class Shape:
    key: str
    zh: tuple
    en: tuple


COLOURS = (
    Colour("red", ("红色", "红"), ("red",), (215, 30, 35)),
    Colour("orange", ("橙色", "橘色", "橙"), ("orange",), (245, 135, 20)),
    Colour("yellow", ("黄色", "黄"), ("yellow",), (245, 225, 30)),
    Colour("green", ("绿色", "绿"), ("green",), (35, 165, 55)),
    Colour("blue", ("蓝色", "蓝"), ("blue",), (30, 70, 215)),
    Colour("purple", ("紫色", "紫"), ("purple", "violet"), (135, 45, 180)),
    Colour("black", ("黑色", "黑"), ("black",), (15, 15, 15)),
    Colour("white", ("白色", "白"), ("white",), (245, 245, 245)),
)

SHAPES = (
    Shape("circle", ("圆形", "圆", "圆圈"), ("circle", "round shape", "disc")),
    Shape("square", ("正方形", "方形", "方块"), ("square", "square shape", "box")),
    Shape("triangle", ("三角形", "三角"), ("triangle", "triangular shape")),
    Shape("star", ("五角星", "星形", "星星"), ("star", "five-pointed star", "star shape")),
    Shape("hexagon", ("六边形", "六角形"), ("hexagon", "hexagonal shape", "six-sided shape")),
    Shape("cross", ("十字形", "十字", "加号"), ("cross", "plus sign", "cross shape")),
)

CLASSES = tuple((c, s) for c in COLOURS for s in SHAPES)


def _outline(shape, cx, cy, r, angle):
    """Polygon points of `shape` centred at (cx, cy), circumradius r, rotated by angle."""
    if shape == "circle":
        polar = [(1.0, 2 * math.pi * i / 96) for i in range(96)]
    elif shape in ("square", "triangle", "hexagon"):
        n = {"square": 4, "triangle": 3, "hexagon": 6}[shape]
        polar = [(1.0, 2 * math.pi * i / n) for i in range(n)]
    elif shape == "star":
        polar = [(1.0 if i % 2 == 0 else 0.42, math.pi * i / 5) for i in range(10)]
    elif shape == "cross":
        # A plus sign: arms of half-width w reaching the circumradius.
        w = 0.36
        corners = [(w, 1), (w, w), (1, w), (1, -w), (w, -w), (w, -1),
                   (-w, -1), (-w, -w), (-1, -w), (-1, w), (-w, w), (-w, 1)]
        k = 1 / math.hypot(1, w)
        polar = [(math.hypot(x, y) * k, math.atan2(y, x)) for x, y in corners]
    else:
        raise ValueError(f"unknown shape {shape!r}")
    return [(cx + r * m * math.cos(a + angle), cy - r * m * math.sin(a + angle)) for m, a in polar]


def _jitter(rng, rgb, amount):
    return tuple(min(255, max(0, v + rng.randint(-amount, amount))) for v in rgb)


def _far_colour(rng, avoid, min_dist=150):
    """A random background colour that can never be mistaken for the shape's colour."""
    while True:
        c = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        if math.dist(c, avoid) >= min_dist:
            return c


def _background(rng, w, h, avoid):
    a = _far_colour(rng, avoid)
    if rng.random() < 0.55:
        return Image.new("RGB", (w, h), a)
    # A linear gradient between two far colours, at a random angle.
    b = _far_colour(rng, avoid)
    t = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = xs / max(w - 1, 1) * math.cos(t) + ys / max(h - 1, 1) * math.sin(t)
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    px = np.asarray(a, np.float32) * (1 - ramp[..., None]) + np.asarray(b, np.float32) * ramp[..., None]
    return Image.fromarray(px.round().astype(np.uint8))


def render(colour, shape, seed):
    """One picture of `colour` `shape`, a pure function of the seed string. Returns a PIL image
    of a varied size (about 72..144 px a side, mildly non-square)."""
    rng = random.Random(seed)
    w = rng.randint(72, 144)
    h = min(160, max(64, round(w * rng.uniform(0.88, 1.12))))
    ss = 2  # drawn at twice the size, then downsampled, for anti-aliased edges
    avoid = colour.rgb
    img = _background(rng, w * ss, h * ss, avoid)
    side = min(w, h) * ss
    r = side * rng.uniform(0.2, 0.42)
    cx = rng.uniform(r * 0.85, w * ss - r * 0.85)
    cy = rng.uniform(r * 0.85, h * ss - r * 0.85)
    ImageDraw.Draw(img).polygon(_outline(shape.key, cx, cy, r, rng.uniform(0, 2 * math.pi)),
                                fill=_jitter(rng, colour.rgb, 18))
    img = img.resize((w, h), Image.LANCZOS)
    sigma = rng.uniform(0, 6)  # mild sensor-like noise
    if sigma > 0.5:
        noise = np.random.default_rng(rng.getrandbits(64)).normal(0, sigma, (h, w, 3))
        img = Image.fromarray(np.clip(np.asarray(img, np.float32) + noise, 0, 255).round().astype(np.uint8))
    return img


def jpeg_bytes(img, quality):
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
