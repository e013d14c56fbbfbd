import math
import random

import numpy as np

from captions import (COLOUR_ONLY, SHAPE_ONLY, all_captions, canonical_en, canonical_zh,
                      random_caption)
from data import read_gallery, training_set, write_gallery
from shapes import CLASSES, COLOURS, SHAPES, _far_colour, jpeg_bytes, render


def test_at_least_eight_colours_by_six_shapes():
    assert len(COLOURS) >= 8 and len(SHAPES) >= 6
    assert len({c.key for c in COLOURS}) == len(COLOURS)
    assert len({s.key for s in SHAPES}) == len(SHAPES)
    assert len(CLASSES) == len(COLOURS) * len(SHAPES)


def test_rendering_is_a_pure_function_of_the_seed():
    c, s = CLASSES[7]
    a, b = render(c, s, "seed-1"), render(c, s, "seed-1")
    assert a.tobytes() == b.tobytes() and jpeg_bytes(a, 85) == jpeg_bytes(b, 85)
    assert render(c, s, "seed-2").tobytes() != a.tobytes()


def test_pictures_vary_in_size():
    sizes = {render(c, s, f"size-{i}").size for i, (c, s) in enumerate(CLASSES)}
    assert len(sizes) > 20
    assert all(64 <= w <= 160 and 64 <= h <= 160 for w, h in sizes)


def test_backgrounds_are_far_from_the_shape_colour():
    rng = random.Random(3)
    for c in COLOURS:
        for _ in range(200):
            assert math.dist(_far_colour(rng, c.rgb), c.rgb) >= 150


def test_shape_colour_dominates_the_centre_of_a_large_shape():
    # A sanity check of the drawing itself: with the shape centred and big, the middle pixel
    # must be the shape's colour (within jitter + noise), never the background.
    for c, s in CLASSES:
        for i in range(20):
            img = render(c, s, f"centre-{c.key}-{s.key}-{i}")
            px = np.asarray(img, np.float32)
            h, w, _ = px.shape
            mid = px[h // 2 - 1:h // 2 + 2, w // 2 - 1:w // 2 + 2].reshape(-1, 3).mean(0)
            if math.dist(mid, c.rgb) < 60:
                break
        else:
            raise AssertionError(f"{c.key} {s.key}: colour never found at the centre")


def test_training_set_is_reproducible():
    a_px, a_lab = training_set(1, 32, seed=5)
    b_px, b_lab = training_set(1, 32, seed=5)
    assert a_px.shape == (len(CLASSES), 3, 32, 32)
    assert (a_px == b_px).all() and (a_lab == b_lab).all()
    c_px, _ = training_set(1, 32, seed=6)
    assert not (a_px == c_px).all()


def test_captions_name_their_class_and_no_other():
    for c, s in CLASSES:
        for text in all_captions(c, s):
            assert any(n in text for n in c.zh + c.en), text
            assert any(n in text for n in s.zh + s.en), text
    caps = [set(all_captions(c, s)) for c, s in CLASSES]
    for i in range(len(caps)):
        for j in range(i + 1, len(caps)):
            assert not caps[i] & caps[j]


def test_random_captions_use_both_languages_and_vary():
    rng = random.Random(0)
    c, s = CLASSES[0]
    zh = {random_caption(rng, c, s, "zh") for _ in range(200)}
    en = {random_caption(rng, c, s, "en") for _ in range(200)}
    assert len(zh) > 20 and len(en) > 20
    assert all(any(ord(ch) > 0x4E00 for ch in t) for t in zh)
    assert all(t.isascii() for t in en)


def test_partial_captions_name_only_their_attribute():
    rng = random.Random(0)
    for c, s in CLASSES:
        for lang in ("zh", "en"):
            text = random_caption(rng, c, s, lang, SHAPE_ONLY).lower()
            assert any(n in text for n in s.zh + s.en), text
            assert not any(n in text for other in COLOURS for n in other.zh + other.en), text
            text = random_caption(rng, c, s, lang, COLOUR_ONLY).lower()
            assert any(n in text for n in c.zh + c.en), text
            assert not any(n in text for other in SHAPES for n in other.zh + other.en), text


def test_canonical_queries():
    red, circle = COLOURS[0], SHAPES[0]
    assert canonical_zh(red, circle) == "红色的圆形"
    assert canonical_en(red, circle) == "a red circle"
    orange = next(c for c in COLOURS if c.key == "orange")
    assert canonical_en(orange, circle) == "an orange circle"


def test_gallery_round_trip(tmp_path):
    write_gallery(str(tmp_path), 1, seed=9)
    files, queries = read_gallery(str(tmp_path))
    assert len(files) == len(CLASSES) and len(queries) == len(CLASSES)
    assert {label for _, label in files} == {q[0] for q in queries}
    assert ("red_circle", "红色的圆形", "a red circle") in queries
