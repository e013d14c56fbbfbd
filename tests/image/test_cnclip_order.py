"""Chinese-CLIP's own order of operations (issue 24): cn_clip's image transform resizes the image
in the mode its file has and converts to RGB after. Pillow then resizes palette and 1-bit images
("P", "1") by nearest neighbour whatever filter is asked, and RGBA / LA premultiplied. cbir does
the same when asked (preprocess_image(resize_before_rgb=True), a bundle's "order":
"resize_then_rgb"), and keeps converting first otherwise.

Every file is written here by Pillow from pixels made here; the reference is Pillow 9.4 doing
cn_clip's Resize((S, S), BICUBIC) then convert("RGB"), or DINOv2's Resize(256) + CenterCrop(224)
in the same order. ../shared/golden/preprocess_cnclip_order.json is checked too where present.
"""
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

import cbir

GOLDEN = os.environ.get("CBIR_GOLDEN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "golden")


def pixels(width, height, seed):
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1),
                     (x * y) % 256], axis=-1)
    return np.clip(base + rng.randint(-60, 61, base.shape), 0, 255).astype(np.uint8)


def alpha_plane(width, height):
    y, x = np.mgrid[0:height, 0:width]
    return np.where((x // 5 + y // 7) % 4 == 0, 0,
                    np.where(x < width // 2, 255, (x * 7 + y * 3) % 256)).astype(np.uint8)


def image_in_mode(mode, width, height, seed=1):
    rgb = Image.fromarray(pixels(width, height, seed), "RGB")
    if mode == "RGBA":
        return Image.fromarray(np.dstack([np.asarray(rgb), alpha_plane(width, height)]), "RGBA")
    if mode == "LA":
        return Image.merge("LA", (rgb.convert("L"), Image.fromarray(alpha_plane(width, height))))
    if mode == "P":
        return rgb.convert("P", palette=Image.ADAPTIVE, colors=200)
    return rgb.convert(mode)


def cnclip_reference(img, resize, size=224, crop=224):
    """Pillow resizing in the stored mode, then convert("RGB")."""
    if resize == "squash":
        return np.asarray(img.resize((size, size), Image.BICUBIC).convert("RGB"))
    w, h = img.size  # torchvision 0.14 Resize(size) on a PIL image, then CenterCrop(crop)
    nw, nh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    resized = img.resize((nw, nh), Image.BICUBIC)
    left, top = int(round((nw - crop) / 2.0)), int(round((nh - crop) / 2.0))
    return np.asarray(resized.crop((left, top, left + crop, top + crop)).convert("RGB"))


def encode(img, fmt):
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


# (mode, format): what Pillow writes and opens again in that mode.
CASES = [("P", "PNG"), ("1", "PNG"), ("RGBA", "PNG"), ("LA", "PNG"), ("P", "GIF"),
         ("P", "TGA"), ("RGBA", "TGA"), ("RGBA", "WEBP"), ("P", "TIFF"), ("1", "TIFF"),
         ("P", "BMP"), ("1", "BMP")]


@pytest.mark.parametrize("mode,fmt", CASES, ids=[f"{m}-{f}" for m, f in CASES])
@pytest.mark.parametrize("size", [(150, 100), (97, 301)])
def test_resize_before_rgb_matches_pillow(mode, fmt, size):
    fmt_name = {"WEBP": "webp", "TIFF": "tiff"}.get(fmt)
    if fmt_name and fmt_name not in cbir.image_formats():
        pytest.skip(f"this cbir was built without {fmt_name}")
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    buf = io.BytesIO()
    image_in_mode(mode, *size).save(buf, fmt, **kwargs)
    data = buf.getvalue()
    stored = Image.open(io.BytesIO(data))
    assert stored.mode == mode, f"Pillow reopened the {fmt} as {stored.mode}, the test needs {mode}"
    for resize, opts in [("squash", {}), ("center_crop", {"size": 256, "crop": 224})]:
        want = cnclip_reference(stored, resize, **opts)
        got = np.asarray(cbir.preprocess_image(data, resize=resize, resize_before_rgb=True, **opts))
        diff = np.abs(got.astype(int) - want.astype(int)).max()
        assert diff <= (1 if fmt == "WEBP" else 0), f"{mode} {fmt} {resize}: max difference {diff}"
        # And the default order still converts first.
        first = np.asarray(stored.convert("RGB").resize((224, 224), Image.BICUBIC))
        if resize == "squash":
            got_default = np.asarray(cbir.preprocess_image(data))
            assert np.abs(got_default.astype(int) - first.astype(int)).max() <= 1


def test_rgb_and_gray_files_are_the_same_in_both_orders():
    for mode, fmt in [("RGB", "PNG"), ("L", "PNG"), ("RGB", "JPEG")]:
        data = encode(image_in_mode(mode, 123, 77), fmt)
        a = np.asarray(cbir.preprocess_image(data, resize_before_rgb=True))
        b = np.asarray(cbir.preprocess_image(data))
        assert np.array_equal(a, b), f"{mode} {fmt}"


def test_alpha_survives_exif_orientation():
    img = image_in_mode("RGBA", 64, 40)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode_with(img, "PNG", exif=exif.tobytes())
    turned = Image.open(io.BytesIO(data)).transpose(Image.ROTATE_270)
    want = cnclip_reference(turned, "squash")
    got = np.asarray(cbir.preprocess_image(data, resize_before_rgb=True))
    assert np.abs(got.astype(int) - want.astype(int)).max() == 0


def encode_with(img, fmt, **kwargs):
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def test_golden_references_where_present():
    listing = os.path.join(GOLDEN, "preprocess_cnclip_order.json")
    if not os.path.exists(listing):
        pytest.skip(f"no golden data at {GOLDEN} (a clone without ../shared)")
    entries = json.load(open(listing))
    assert entries, "the golden listing is empty"
    for e in entries:
        want = np.fromfile(os.path.join(GOLDEN, e["rgb"]), np.uint8).reshape(
            int(e["height"]), int(e["width"]), 3)
        got = np.asarray(cbir.preprocess_image(os.path.join(GOLDEN, e["image"]),
                                               resize_before_rgb=True))
        assert np.array_equal(got, want), e["image"]
