"""Photo formats (issue 24) through libcbir as a user calls it (the Python binding):
WebP, TIFF, HEIC/HEIF, AVIF and JPEG XL decoded as Pillow (or the format's reference decoder)
does, orientation read where Pillow reads it, and damaged files refused cleanly.

Every file is written here, by Pillow or by the formats' own command-line tools (cwebp,
img2webp, heif-enc, avifenc, cjxl, tiffcp), from pixels made here; none is committed. The
reference pixels come from Pillow 9.4 for WebP and TIFF (Pillow decodes them with the same
libwebp and libtiff), from heif-convert (libheif) for HEIC and AVIF, from djxl for JPEG XL (Pillow
9.4 reads none of these three). cbir's output is compared after the same squash resize
(preprocess_image, whose resampling equals Pillow's: tests/unit/test_image_preprocess.cpp), at
the image's own size (the decoded pixels themselves) and at 224.
"""
import io
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageOps, PngImagePlugin

import cbir

FORMATS = cbir.image_formats()
# Under CI (CI=true or 1) a missing tool or decoder fails: scripts/setup installs them all.
STRICT = os.environ.get("CI", "").lower() in ("true", "1")


def skip(why):
    (pytest.fail if STRICT else pytest.skip)(why + (" (CI: this must not be missing)" if STRICT else ""))


def photo(width, height, seed=0, alpha=False):
    """Smooth gradients plus noise, like a photo's mix of flat and busy parts."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1),
                     (x + y) * 255 // max(width + height - 2, 1)], axis=-1)
    rgb = np.clip(base + rng.randint(-40, 41, base.shape), 0, 255).astype(np.uint8)
    if not alpha:
        return Image.fromarray(rgb, "RGB")
    a = np.where((x // 8 + y // 8) % 3 == 0, 0, np.where(x < width // 2, 255, 128)).astype(np.uint8)
    return Image.fromarray(np.dstack([rgb, a]), "RGBA")


def reference(img, size, transpose=True):
    """Pillow's pipeline: exif_transpose, convert("RGB") (alpha dropped), squash bicubic."""
    rgb = (ImageOps.exif_transpose(img) if transpose else img).convert("RGB")
    return np.asarray(rgb if rgb.size == (size, size) else rgb.resize((size, size), Image.BICUBIC))


def cbir_pixels(path, size):
    return np.asarray(cbir.preprocess_image(path, size=size))


def assert_same(path, want_img, sizes=(224,), tolerance=0, transpose=True):
    for size in sizes:
        got, want = cbir_pixels(path, size), reference(want_img, size, transpose)
        assert got.shape == want.shape, f"{path} at {size}: {got.shape} vs {want.shape}"
        diff = np.abs(got.astype(int) - want.astype(int)).max()
        assert diff <= tolerance, f"{path} at {size}: max difference {diff} > {tolerance}"


def tool(name):
    exe = shutil.which(name)
    if exe is None:
        skip(f"{name} is not installed (scripts/setup installs it): cannot write the test file")
    return exe


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def needs(fmt):
    if fmt not in FORMATS:
        skip(f"this libcbir was built without {fmt} (cbir_image_formats: {' '.join(FORMATS)})")


def square(tmp_path, name, alpha=False, side=96, seed=1):
    path = tmp_path / name
    photo(side, side, seed, alpha).save(path)
    return path


# ------------------------------------------------------------------------------------ WebP

@pytest.mark.parametrize("kind", ["lossy", "lossless", "alpha_lossy", "alpha_lossless"])
def test_webp_equals_pillow(tmp_path, kind):
    needs("webp")
    src = square(tmp_path, "src.png", alpha="alpha" in kind)
    out = tmp_path / f"{kind}.webp"
    run(tool("cwebp"), "-quiet", *(["-lossless"] if "lossless" in kind else ["-q", "80"]),
        str(src), "-o", str(out))
    assert_same(out, Image.open(out), sizes=(96, 224))


def test_webp_animated_gives_its_first_frame(tmp_path):
    needs("webp")
    frames = [square(tmp_path, f"f{i}.png", seed=10 + i, alpha=i == 0) for i in range(2)]
    out = tmp_path / "anim.webp"
    run(tool("img2webp"), "-lossless", str(frames[0]), str(frames[1]), "-o", str(out))
    im = Image.open(out)
    assert im.n_frames == 2
    assert_same(out, im, sizes=(96, 224))
    assert not np.array_equal(cbir_pixels(out, 96), np.asarray(Image.open(frames[1]).convert("RGB")))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_webp_exif_orientation(tmp_path, orientation):
    needs("webp")
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = tmp_path / "o.webp"
    photo(80, 48, 3).save(out, lossless=True, exif=exif.tobytes())
    assert_same(out, Image.open(out), sizes=(224,))
    assert cbir.probe_image(str(out)) == ((80, 48) if orientation in (6, 8) else (48, 80))


# ------------------------------------------------------------------------------------ TIFF

TIFF_CASES = {
    "rgb_raw": ("RGB", {}), "rgb_lzw": ("RGB", {"compression": "tiff_lzw"}),
    "rgb_deflate": ("RGB", {"compression": "tiff_adobe_deflate"}),
    "rgb_packbits": ("RGB", {"compression": "packbits"}),
    "rgb_jpeg": ("RGB", {"compression": "jpeg", "quality": 90}),
    "gray_lzw": ("L", {"compression": "tiff_lzw"}), "bilevel_g4": ("1", {"compression": "group4"}),
    "bilevel_raw": ("1", {}), "palette": ("P", {"compression": "tiff_lzw"}),
    "cmyk": ("CMYK", {}), "rgba_lzw": ("RGBA", {"compression": "tiff_lzw"}),
}


@pytest.mark.parametrize("case", sorted(TIFF_CASES))
def test_tiff_equals_pillow(tmp_path, case):
    needs("tiff")
    mode, params = TIFF_CASES[case]
    out = tmp_path / f"{case}.tif"
    photo(96, 96, 5, alpha=mode == "RGBA").convert(mode).save(out, **params)
    assert_same(out, Image.open(out), sizes=(96, 224), tolerance=1)


def test_tiff_tiled_16bit_and_first_page(tmp_path):
    needs("tiff")
    src = tmp_path / "strips.tif"
    photo(96, 96, 6).save(src)
    tiled = tmp_path / "tiled.tif"
    run(tool("tiffcp"), "-t", "-w", "32", "-l", "32", "-c", "zip", str(src), str(tiled))
    assert_same(tiled, Image.open(src), sizes=(96, 224))
    # Several pages: the first is the image.
    pages = tmp_path / "pages.tif"
    photo(96, 96, 7).save(pages, save_all=True, append_images=[photo(96, 96, 8)])
    assert Image.open(pages).n_frames == 2
    assert_same(pages, Image.open(pages), sizes=(96,))
    # 16 bits a sample (gray, as scanners write): libtiff keeps the high byte, as Pillow's I;16
    # to L does for values that fill the range.
    wide = (np.asarray(photo(96, 96, 9).convert("L")).astype(np.uint16) * 257)
    sixteen = tmp_path / "gray16.tif"
    Image.fromarray(wide, "I;16").save(sixteen)
    got = cbir_pixels(sixteen, 96)
    assert np.array_equal(got[..., 0], (wide >> 8).astype(np.uint8))


@pytest.mark.parametrize("orientation", [2, 3, 4, 5, 6, 7, 8])
def test_tiff_orientation_tag_applied_once(tmp_path, orientation):
    """Pillow 9.4 turns a TIFF upright as it loads it (TiffImageFile.load_end) and then
    exif_transpose turns it again, as the tag stays in its EXIF: a Pillow bug. cbir applies the
    tag once, which is what Pillow's load alone gives."""
    needs("tiff")
    out = tmp_path / "o.tif"
    photo(80, 48, 4).save(out, tiffinfo={274: orientation})
    assert Image.open(out).getexif().get(0x0112) == orientation
    assert_same(out, Image.open(out), sizes=(224,), tolerance=1, transpose=False)
    assert cbir.probe_image(str(out)) == ((80, 48) if orientation >= 5 else (48, 80))


# ------------------------------------------------------------------- HEIC, AVIF and JPEG XL

def decoded_by(exe, src, tmp_path):
    out = tmp_path / (src.name + ".ref.png")
    run(tool(exe), str(src), str(out))
    return Image.open(out)


@pytest.mark.parametrize("kind", ["lossy", "lossless", "alpha"])
def test_heic_equals_libheif(tmp_path, kind):
    needs("heic")
    src = square(tmp_path, "src.png", alpha=kind == "alpha", side=128)
    out = tmp_path / f"{kind}.heic"
    run(tool("heif-enc"), *(["-L"] if kind == "lossless" else ["-q", "80"]), str(src), "-o", str(out))
    assert_same(out, decoded_by("heif-convert", out, tmp_path), sizes=(128, 224))


def test_heic_10bit_becomes_8bit_as_libheif_gives_it(tmp_path):
    needs("heic")
    rgb16 = (np.asarray(photo(64, 64, 12)).astype(np.uint16) * 257)
    src = tmp_path / "deep.png"
    write_png16(rgb16, src)
    out = tmp_path / "deep.heic"
    run(tool("heif-enc"), "-b", "10", "-q", "90", str(src), "-o", str(out))
    ref = np.asarray(decoded_by("heif-convert", out, tmp_path))
    ref8 = ref if ref.dtype == np.uint8 else (ref.astype(np.uint32) >> 8).astype(np.uint8)
    got = cbir_pixels(out, 64)
    assert np.abs(got.astype(int) - ref8[..., :3].astype(int)).max() <= 1


def heif_boxes(data, start=0, end=None):
    """(type, body start, body end) of each box in data[start:end] (32-bit sizes, as heif-enc writes)."""
    import struct
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start:start + 8])
        yield kind.decode("latin1"), start + 8, start + size
        start += size


def heic_grid(coded, canvas, ispe):
    """A HEIC whose primary image is a 1x1 grid over heif-enc's coded image `coded` (one hvc1
    item, one extent), the grid's data declaring `canvas` (w, h) and its ispe property `ispe`."""
    import struct
    box = lambda t, b: struct.pack(">I", 8 + len(b)) + t + b
    full = lambda t, b, v=0: box(t, bytes([v, 0, 0, 0]) + b)
    meta = next(b for t, b, e in heif_boxes(coded) if t == "meta")
    inner = {t: (b, e) for t, b, e in heif_boxes(coded, meta + 4, next(e for t, b, e in heif_boxes(coded) if t == "meta"))}
    iprp = inner["iprp"]
    ipco = next((b, e) for t, b, e in heif_boxes(coded, *iprp) if t == "ipco")
    hvcc = next(coded[b - 8:e] for t, b, e in heif_boxes(coded, *ipco) if t == "hvcC")
    b, e = inner["iloc"]  # version 0, 4-byte base, offset and length, one item, one extent
    base, _, offset, length = struct.unpack(">IHII", coded[e - 14:e])
    offset += base
    tile = coded[offset:offset + length]
    grid_data = bytes([0, 1, 0, 0]) + struct.pack(">II", *canvas)  # 32-bit fields
    # Laid out with the mdat last: its offset is the size of everything before it plus 8.
    def file_with(mdat_at):
        iloc = full(b"iloc", struct.pack(">BBH", 0x44, 0x40, 2)
                    + struct.pack(">HHHIH", 1, 0, 0, 0, 1) + struct.pack(">II", mdat_at, length)
                    + struct.pack(">HHHIH", 2, 1, 0, 0, 1) + struct.pack(">II", 0, len(grid_data)), v=1)
        iinf = full(b"iinf", struct.pack(">H", 2)
                    + full(b"infe", struct.pack(">HH", 1, 0) + b"hvc1", v=2)
                    + full(b"infe", struct.pack(">HH", 2, 0) + b"grid", v=2))
        ipco_box = box(b"ipco", hvcc + full(b"ispe", struct.pack(">II", 64, 64))
                       + full(b"ispe", struct.pack(">II", *ispe)))
        ipma = full(b"ipma", struct.pack(">I", 2) + struct.pack(">HBBB", 1, 2, 0x81, 0x02)
                    + struct.pack(">HBB", 2, 1, 0x03))
        meta_box = full(b"meta", full(b"hdlr", bytes(4) + b"pict" + bytes(13))
                        + full(b"pitm", struct.pack(">H", 2)) + iloc + iinf
                        + full(b"iref", box(b"dimg", struct.pack(">HHH", 2, 1, 1)))
                        + box(b"iprp", ipco_box + ipma) + box(b"idat", grid_data))
        head = box(b"ftyp", b"heic" + bytes(4) + b"mif1heic") + meta_box
        return head, box(b"mdat", tile)
    head, _ = file_with(0)
    head, mdat = file_with(len(head) + 8)
    return head + mdat


def test_heic_grid_canvas_is_checked_before_libheif_allocates_it(tmp_path):
    """libheif 1.15 allocates a grid's canvas as the grid's own data declares it, not as the
    checked ispe says: a file claiming 30464x24 with a 29184x16664 canvas made it allocate
    3 x 486 MB (fuzz/regressions/fuzz_heif/grid_canvas_larger_than_ispe)."""
    needs("heic")
    out = tmp_path / "tile.heic"
    run(tool("heif-enc"), "-q", "60", str(square(tmp_path, "src.png", side=64)), "-o", str(out))
    coded = out.read_bytes()
    good = heic_grid(coded, (64, 64), (64, 64))
    assert cbir.probe_image(good) == (64, 64)
    assert np.array_equal(np.asarray(cbir.preprocess_image(good, size=64)), cbir_pixels(out, 64))
    with pytest.raises(cbir.ImageError, match="over the limit"):
        cbir.probe_image(good, max_pixels=64 * 64 - 1)
    # The bomb, probed in a child process whose peak memory is measured.
    bomb = tmp_path / "bomb.heic"
    bomb.write_bytes(heic_grid(coded, (29184, 16664), (30464, 24)))
    probe = ("import resource, sys, cbir\n"
             "try:\n    cbir.probe_image(sys.argv[1]); print('decoded')\n"
             "except cbir.ImageError as e:\n    print(e)\n"
             "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n")
    res = subprocess.run([sys.executable, "-c", probe, str(bomb)], capture_output=True, text=True,
                         check=True, env=os.environ)
    message, peak_mb = res.stdout.strip().splitlines()
    assert "29184x16664" in message and "over the limit" in message, message
    assert int(peak_mb) < 400, f"peak {peak_mb} MB: the canvas was allocated before the check"


def write_png16(rgb16, path):
    """A 16-bit RGB PNG (Pillow 9.4 cannot write one; ImageMagick or a hand-made file can)."""
    import struct
    import zlib
    h, w, _ = rgb16.shape
    raw = b"".join(b"\0" + rgb16[y].astype(">u2").tobytes() for y in range(h))
    chunk = lambda t, b: struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("kind", ["lossy", "alpha", "sequence"])
def test_avif_equals_libheif(tmp_path, kind):
    needs("avif")
    src = square(tmp_path, "src.png", alpha=kind == "alpha", side=128)
    out = tmp_path / f"{kind}.avif"
    extra = [str(square(tmp_path, "second.png", seed=30, side=128))] if kind == "sequence" else []
    if kind == "sequence":
        run(tool("avifenc"), str(src), *extra, str(out))
    else:
        run(tool("heif-enc"), "-A", "-q", "70", str(src), "-o", str(out))
    if kind == "sequence":
        assert out.read_bytes()[8:12] == b"avis"
        ref = tmp_path / "first.png"
        run(tool("avifdec"), "--index", "0", str(out), str(ref))
        assert_same(out, Image.open(ref), sizes=(128,), tolerance=1)
        return
    assert_same(out, decoded_by("heif-convert", out, tmp_path), sizes=(128, 224))


@pytest.mark.parametrize("kind", ["lossless", "lossy", "alpha"])
def test_jxl_equals_djxl(tmp_path, kind):
    needs("jxl")
    src = square(tmp_path, "src.png", alpha=kind == "alpha", side=96)
    out = tmp_path / f"{kind}.jxl"
    run(tool("cjxl"), str(src), str(out), "-d", "0" if kind != "lossy" else "1.5", "--quiet")
    want = Image.open(src) if kind != "lossy" else decoded_by("djxl", out, tmp_path)
    assert_same(out, want, sizes=(96, 224))


# --------------------------------------------------------------------- damaged and huge files

def made(tmp_path, fmt):
    """A small valid file of `fmt`, or a skip."""
    needs(fmt)
    src = square(tmp_path, "src.png", side=64, seed=40)
    out = tmp_path / f"ok.{fmt}"
    if fmt == "webp":
        run(tool("cwebp"), "-quiet", "-q", "80", str(src), "-o", str(out))
    elif fmt == "tiff":
        photo(64, 64, 40).save(out, compression="tiff_lzw")
    elif fmt in ("heic", "avif"):
        run(tool("heif-enc"), *(["-A"] if fmt == "avif" else []), "-q", "60", str(src), "-o", str(out))
    else:
        run(tool("cjxl"), str(src), str(out), "-d", "1", "--quiet")
    return out.read_bytes()


@pytest.mark.parametrize("fmt", ["webp", "tiff", "heic", "avif", "jxl"])
def test_damaged_files_give_clear_errors(tmp_path, fmt):
    good = made(tmp_path, fmt)
    assert cbir.probe_image(good) == (64, 64)
    rng = np.random.RandomState(len(good))
    damaged = {"truncated to half": good[: len(good) // 2], "truncated to 20 bytes": good[:20]}
    for i in range(20):  # bytes flipped across the body
        b = bytearray(good)
        for at in rng.randint(16, len(b), 4):
            b[at] ^= 0xFF
        damaged[f"flipped bytes {i}"] = bytes(b)
    damaged["zeroed body"] = good[:32] + bytes(len(good) - 32)
    for what, data in damaged.items():
        try:
            h, w = cbir.probe_image(data)
        except cbir.ImageError as e:  # truncated, corrupt, format, dimensions...
            assert str(e) and "buffer" in str(e), what
            continue
        assert h > 0 and w > 0, what  # a decoder that conceals damage still gives an image


@pytest.mark.parametrize("fmt", ["webp", "tiff", "heic", "avif", "jxl"])
def test_pixel_limit_refuses_from_the_header(tmp_path, fmt):
    good = made(tmp_path, fmt)
    with pytest.raises(cbir.ImageError) as e:
        cbir.probe_image(good, max_pixels=64 * 64 - 1)
    assert "over the limit" in str(e.value)
    assert cbir.probe_image(good, max_pixels=64 * 64) == (64, 64)


# ------------------------------------------------- JPEG warnings and orientation, as Pillow does

def test_jpeg_with_extraneous_bytes_before_a_marker(tmp_path):
    buf = io.BytesIO()
    photo(64, 48, 50).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    at = data.index(b"\xff\xdb")  # the first quantisation table: junk before it
    out = tmp_path / "junk.jpg"
    out.write_bytes(data[:at] + b"\x00\x12\x34" + data[at:])
    assert_same(out, Image.open(out), sizes=(224,))


def xmp(orientation, attribute=True):
    inner = (f'<rdf:Description tiff:Orientation="{orientation}"/>' if attribute else
             f"<rdf:Description><tiff:Orientation>{orientation}</tiff:Orientation></rdf:Description>")
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
            f'22-rdf-syntax-ns#" xmlns:tiff="http://ns.adobe.com/tiff/1.0/">{inner}</rdf:RDF></x:xmpmeta>')


@pytest.mark.parametrize("attribute", [True, False])
def test_png_xmp_orientation(tmp_path, attribute):
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp(6, attribute))
    out = tmp_path / "xmp.png"
    photo(80, 48, 51).save(out, pnginfo=info)
    assert Image.open(out).getexif().get(0x0112) == 6
    assert_same(out, Image.open(out), sizes=(224,))
    assert cbir.probe_image(str(out)) == (80, 48)


def test_png_imagemagick_raw_exif_orientation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 8
    payload = b"Exif\x00\x00" + exif.tobytes()[6:] if exif.tobytes().startswith(b"Exif") else exif.tobytes()
    text = f"\nexif\n{len(payload):8d}\n" + "\n".join(payload.hex()[i:i + 72] for i in range(0, len(payload) * 2, 72))
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", text)
    out = tmp_path / "raw.png"
    photo(80, 48, 52).save(out, pnginfo=info)
    assert Image.open(out).getexif().get(0x0112) == 8
    assert_same(out, Image.open(out), sizes=(224,))
    assert cbir.probe_image(str(out)) == (80, 48)


def test_png_exif_wins_over_xmp(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 3
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp(6))
    out = tmp_path / "both.png"
    photo(80, 48, 53).save(out, pnginfo=info, exif=exif.tobytes())
    assert Image.open(out).getexif().get(0x0112) == 3
    assert_same(out, Image.open(out), sizes=(224,))


def test_listed_formats_cover_the_default_extensions():
    assert {"jpeg", "png", "gif", "bmp", "tga", "pnm"} <= set(FORMATS)
    assert set(FORMATS) <= {"jpeg", "png", "gif", "bmp", "tga", "pnm", "ico", "webp", "tiff", "heic",
                            "avif", "jxl"}


# --------------------------------------------------------------------- a whole mixed folder

def test_a_folder_mixing_every_format_indexes_all_but_the_broken_files(tmp_path):
    """The issue's "done when": a folder of every format cbir reads, plus deliberately broken
    files, indexes with the shipped default model; only the broken files fail, each with a
    one-line reason naming it."""
    folder = tmp_path / "photos"
    folder.mkdir()
    img, alpha = photo(80, 60, 21), photo(80, 60, 22, alpha=True)
    img.save(folder / "a.jpg", quality=90)
    alpha.save(folder / "b.png")
    img.convert("P", palette=Image.ADAPTIVE).save(folder / "c.gif")
    img.save(folder / "d.bmp")
    img.convert("P", palette=Image.ADAPTIVE).save(folder / "e.tga")
    img.save(folder / "f.ppm")
    img.convert("L").save(folder / "g.pgm")
    img.convert("1").save(folder / "h.pbm")
    good = 8
    if "webp" in FORMATS:
        alpha.save(folder / "i.webp", lossless=True)
        good += 1
    if "tiff" in FORMATS:
        img.save(folder / "j.tif", compression="tiff_lzw")
        good += 1
    src = square(tmp_path, "src.png", side=64)
    for fmt, name, cmd in [("heic", "k.heic", ["heif-enc", "-q", "60"]),
                           ("avif", "l.avif", ["heif-enc", "-A", "-q", "60"]),
                           ("jxl", "m.jxl", ["cjxl", "-d", "2", "--quiet"])]:
        needs(fmt)
        out = folder / name
        run(tool(cmd[0]), *cmd[1:], *([str(src), "-o", str(out)] if cmd[0] == "heif-enc"
                                      else [str(src), str(out)]))
        good += 1
    jpeg = (folder / "a.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "page.jpg").write_bytes(b"<!doctype html><html><body>not found</body></html>")
    (folder / "empty.png").write_bytes(b"")
    broken = {"cut.jpg", "page.jpg", "empty.png"}

    model_dir = os.path.join(os.path.dirname(__file__), "..", "..", "models", "tiny-bilingual")
    with cbir.Model(model_dir, towers="image") as model, \
            cbir.Collection(str(tmp_path / "db"), model=model, create=True) as coll:
        report = coll.ingest(model, str(folder))
    assert report.found == good + len(broken)
    assert report.added == good, [f.message for f in report.failures]
    assert {os.path.basename(f.path) for f in report.failures} == broken
    for f in report.failures:
        assert "\n" not in f.message and os.path.basename(f.path) in f.message, f.message
