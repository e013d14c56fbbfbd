"""BMP, PNM, ICO/CUR and TGA as Pillow 9.4 reads them (issue 24, item 4), through libcbir as a
user calls it. Files are written here, by Pillow or byte by byte for the variants Pillow does not
write (top-down and RLE BMPs, plain PNM, right-to-left TGA); the reference is Pillow opening the
same bytes, convert("RGB"), squash 224 bicubic. Where cbir deliberately differs (16-bit gray
PNM is scaled, Pillow clips it) the test says so and checks cbir's choice.
"""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import cbir


def photo(width, height, seed=0):
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1),
                     (x * 3 + y * 5) % 256], axis=-1)
    return np.clip(base + rng.randint(-40, 41, base.shape), 0, 255).astype(np.uint8)


def pillow(data, size=224):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((size, size), Image.BICUBIC))


def assert_like_pillow(data, what, size=224):
    got = np.asarray(cbir.preprocess_image(data, size=size))
    want = pillow(data, size)
    diff = np.abs(got.astype(int) - want.astype(int)).max()
    assert diff <= 1, f"{what}: max difference {diff}"


def encode(img, fmt, **kwargs):
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB"])
@pytest.mark.parametrize("size", [(123, 77), (64, 64), (5, 301)])
def test_bmp_as_pillow_writes_it(mode, size):
    img = Image.fromarray(photo(*size), "RGB")
    img = img.convert(mode) if mode != "P" else img.convert("P", palette=Image.ADAPTIVE, colors=50)
    assert_like_pillow(encode(img, "BMP"), f"{mode} BMP {size}")


def bmp(width, height, bits, pixel_rows, palette=b"", compression=0, top_down=False, masks=b""):
    """A Windows 3 BMP from raw rows (already in file order and padded)."""
    info = struct.pack("<IiiHHIIiiII", 40, width, -height if top_down else height, 1, bits,
                       compression, len(pixel_rows), 2835, 2835, len(palette) // 4, 0)
    offset = 14 + len(info) + len(masks) + len(palette)
    head = b"BM" + struct.pack("<IHHI", offset + len(pixel_rows), 0, 0, offset)
    return head + info + masks + palette + pixel_rows


def rows_24(rgb, top_down):
    h, w, _ = rgb.shape
    order = range(h) if top_down else range(h - 1, -1, -1)
    pad = (-(w * 3)) % 4
    return b"".join(rgb[y, :, ::-1].tobytes() + b"\0" * pad for y in order)


@pytest.mark.parametrize("top_down", [False, True])
def test_bmp_24_bit_either_way_up(top_down):
    rgb = photo(37, 21, seed=3)
    data = bmp(37, 21, 24, rows_24(rgb, top_down), top_down=top_down)
    assert_like_pillow(data, f"24-bit top_down={top_down}")
    assert cbir.probe_image(data) == (21, 37)


def test_bmp_16_bit_565_and_555_widen_as_pillow():
    rng = np.random.RandomState(5)
    words = rng.randint(0, 65536, (10, 10)).astype("<u2")
    rows = b"".join(words[y].tobytes() + b"\0\0" for y in range(10))  # rows padded to 4 bytes
    plain = bmp(10, 10, 16, rows)  # 5-5-5
    masks = struct.pack("<III", 0xF800, 0x7E0, 0x1F)
    fields = bmp(10, 10, 16, rows, compression=3, masks=masks)
    for data, what in [(plain, "555"), (fields, "565")]:
        got = np.asarray(cbir.preprocess_image(data, size=10))  # same size: the pixels themselves
        want = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        assert np.array_equal(got, want), what


def rle8(rows):
    """RLE8 of index rows (bottom row first): runs of equal bytes, literals elsewhere."""
    out = b""
    for row in rows:
        x = 0
        while x < len(row):
            run = 1
            while x + run < len(row) and row[x + run] == row[x] and run < 255:
                run += 1
            if run >= 3 or len(row) - x < 3:
                out += bytes([run, row[x]])
                x += run
            else:
                lit = min(255, len(row) - x)
                out += bytes([0, lit]) + bytes(row[x:x + lit]) + (b"\0" if lit % 2 else b"")
                x += lit
        out += b"\0\0"
    return out + b"\0\1"


def test_bmp_rle8_equals_its_uncompressed_twin():
    rng = np.random.RandomState(7)
    idx = np.repeat(rng.randint(0, 16, (13, 6)), 4, axis=1).astype(np.uint8)  # 13 x 24, runs
    idx[::3, 5:9] = rng.randint(0, 16, (5, 4))  # and some literal stretches
    palette = b"".join(bytes([b, g, r, 0]) for r, g, b in rng.randint(0, 256, (16, 3)))
    bottom_up = [list(idx[y]) for y in range(12, -1, -1)]
    raw = b"".join(bytes(r) for r in bottom_up)
    plain = bmp(24, 13, 8, raw, palette)
    packed = bmp(24, 13, 8, rle8(bottom_up), palette, compression=1)
    a = np.asarray(cbir.preprocess_image(plain, size=64))
    b = np.asarray(cbir.preprocess_image(packed, size=64))
    assert np.array_equal(a, b)
    assert_like_pillow(packed, "RLE8")


def test_bmp_palette_index_past_the_palette_reads_the_gray_ramp():
    palette = b"".join(bytes([b, g, r, 0]) for r, g, b in [(200, 10, 10), (10, 200, 10)])
    raw = bytes([0, 1, 7, 200]) * 4  # 4 x 4, indices 7 and 200 are past the 2 colours
    data = bmp(4, 4, 8, raw, palette)
    got = np.asarray(cbir.preprocess_image(data, size=4))
    want = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(got, want)
    assert tuple(got[0, 3]) == (200, 200, 200)


PNM_CASES = [("P1", 1), ("P4", 1)] + [(k, m) for k in ("P2", "P3", "P5", "P6")
                                       for m in (1, 100, 255, 1000, 65535)]


@pytest.mark.parametrize("kind,maxval", PNM_CASES, ids=[f"{k}-{m}" for k, m in PNM_CASES])
def test_pnm_every_variant(kind, maxval):
    rng = np.random.RandomState(11)
    h, w = 17, 23
    channels = 3 if kind in ("P3", "P6") else 1
    v = rng.randint(0, maxval + 1, (h, w, channels))
    head = f"{kind}\n# made by the test\n{w} {h}\n" + ("" if kind in ("P1", "P4") else f"{maxval}\n")
    if kind == "P4":
        body = np.packbits(v[:, :, 0].astype(np.uint8), axis=1).tobytes()
    elif kind in ("P5", "P6"):
        body = v.astype(">u2" if maxval > 255 else np.uint8).tobytes()
    else:
        body = "\n".join(" ".join(str(int(s)) for s in row.ravel()) for row in v).encode()
    data = head.encode() + body
    got = np.asarray(cbir.preprocess_image(data, size=224))
    if kind in ("P1", "P4"):
        want8 = np.where(v == 1, 0, 255)
    else:
        want8 = np.round(v / maxval * 255.0)  # every depth scaled, as Pillow does to 8 bits
    want = np.asarray(Image.fromarray(np.repeat(want8, 3 // channels, axis=2).astype(np.uint8), "RGB")
                      .resize((224, 224), Image.BICUBIC))
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1, kind
    if not (channels == 1 and maxval > 255):  # Pillow clips 16-bit gray ("I"); cbir scales
        assert_like_pillow(data, f"{kind} maxval {maxval}")


def test_ico_takes_the_largest_entry_png_or_bitmap():
    img = Image.fromarray(photo(64, 64, seed=9), "RGB")
    data = encode(img, "ICO", sizes=[(16, 16), (64, 64), (32, 32)])
    assert cbir.probe_image(data) == (64, 64)
    assert_like_pillow(data, "ICO (PNG entries)")
    # A bitmap entry: 32x32 at 24 bits, with an AND mask, built by hand.
    rgb = photo(32, 32, seed=2)
    xor = rows_24(rgb, top_down=False)
    and_mask = b"\0" * (4 * 32)
    dib = struct.pack("<IiiHHIIiiII", 40, 32, 64, 1, 24, 0, len(xor) + len(and_mask), 0, 0, 0, 0)
    entry = struct.pack("<BBBBHHII", 32, 32, 0, 0, 1, 24, len(dib) + len(xor) + len(and_mask), 22)
    ico = struct.pack("<HHH", 0, 1, 1) + entry + dib + xor + and_mask
    assert cbir.probe_image(ico) == (32, 32)
    assert_like_pillow(ico, "ICO (bitmap entry)")
    cur = ico[:2] + struct.pack("<H", 2) + ico[4:]
    assert_like_pillow(cur, "CUR")


def test_tga_right_to_left_is_mirrored_as_pillow_does():
    rgb = photo(19, 11, seed=4)
    header = struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 19, 11, 24, 0x10 | 0x20)
    rows = b"".join(rgb[y, ::-1, ::-1].tobytes() for y in range(11))  # top-down, right to left
    data = header + rows
    got = np.asarray(cbir.preprocess_image(data, size=19))
    assert got.shape == (19, 19, 3)
    assert_like_pillow(data, "TGA right to left")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), rgb)


@pytest.mark.parametrize("data,code", [
    (b"BM" + b"\0" * 12 + struct.pack("<IiiHH", 40, 100000, 100000, 1, 24) + b"\0" * 24,
     "EIMAGE_TOO_LARGE"),
    (b"BM" + b"\0" * 12 + struct.pack("<IiiHH", 40, 10, -10, 1, 24) + b"\0" * 24 + b"\0" * 50,
     "EIMAGE_TRUNCATED"),
    (b"BM" + b"\0" * 12 + struct.pack("<IiiHH", 66, 10, 10, 1, 24) + b"\0" * 60, "EIMAGE_CORRUPT"),
    (b"P5\n100000 100000\n255\n" + b"\0" * 10, "EIMAGE_TOO_LARGE"),
    (b"P2\n10 10\n255\n1 2 3", "EIMAGE_TRUNCATED"),
    (b"P2\n2 1\n255\n1 999", "EIMAGE_CORRUPT"),
    (b"P3\n1 1\n1234567890 1 1", "EIMAGE_CORRUPT"),
    (struct.pack("<HHH", 0, 1, 3) + b"\0" * 20, "EIMAGE_TRUNCATED"),
    # GIF: a canvas over the pixel limit, cut inside the image data, an LZW code size of 0,
    # a trailer before any image.
    (b"GIF89a" + struct.pack("<HH", 60000, 60000) + b"\0\0\0" + b"\x2C" + b"\0" * 9 + b"\x08",
     "EIMAGE_TOO_LARGE"),
    (b"GIF89a" + struct.pack("<HH", 4, 4) + b"\0\0\0\x2C" + struct.pack("<HHHH", 0, 0, 4, 4)
     + b"\0\x08\x05\x00\x01", "EIMAGE_TRUNCATED"),
    (b"GIF89a" + struct.pack("<HH", 4, 4) + b"\0\0\0\x2C" + struct.pack("<HHHH", 0, 0, 4, 4)
     + b"\0\x00\x01\x00\x00\x3B", "EIMAGE_CORRUPT"),
    (b"GIF89a" + struct.pack("<HH", 4, 4) + b"\0\0\0\x3B", "EIMAGE_CORRUPT"),
])
def test_damaged_files_are_refused_with_their_code(data, code):
    with pytest.raises(cbir.Error) as e:
        cbir.preprocess_image(data)
    assert e.value.code.name == code, str(e.value)


def lzw_without_clears(indices, min_bits):
    """A GIF LZW stream with one clear code at the start and none after: once its table is
    full (4096 codes) it goes on without adding any, as some encoders do (stb_image refused
    such files as "too many codes"; Pillow reads them)."""
    clear, end = 1 << min_bits, (1 << min_bits) + 1
    table = {bytes([i]): i for i in range(clear)}
    nxt, bits = end + 1, min_bits + 1
    acc = nbits = 0
    out = bytearray()

    def emit(code):
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += bits
        while nbits >= 8:
            out.append(acc & 255)
            acc >>= 8
            nbits -= 8

    emit(clear)
    w = bytes([indices[0]])
    for i in indices[1:]:
        wc = w + bytes([i])
        if wc in table:
            w = wc
            continue
        emit(table[w])
        if nxt < 4096:
            table[wc] = nxt
            nxt += 1
            if nxt > (1 << bits) and bits < 12:
                bits += 1
        w = bytes([i])
    emit(table[w])
    emit(end)
    if nbits:
        out.append(acc & 255)
    return bytes(out)


def gif(width, height, indices, palette=None, min_bits=8, frame=None, transparent=None):
    """A GIF89a of one frame (frame = (x, y, w, h) inside the canvas) from raw indices."""
    x0, y0, fw, fh = frame or (0, 0, width, height)
    head = b"GIF89a" + struct.pack("<HH", width, height)
    head += bytes([0xF7 if palette else 0x00, 0, 0]) + (palette or b"")
    if transparent is not None:
        head += bytes([0x21, 0xF9, 4, 1, 0, 0, transparent, 0])
    stream = lzw_without_clears(indices, min_bits)
    blocks = b"".join(bytes([len(stream[i:i + 255])]) + stream[i:i + 255]
                      for i in range(0, len(stream), 255))
    return (head + b"\x2C" + struct.pack("<HHHH", x0, y0, fw, fh) + b"\0" + bytes([min_bits])
            + blocks + b"\0\x3B")


def test_gif_whose_lzw_table_fills_up_without_a_clear():
    rng = np.random.RandomState(3)
    indices = rng.randint(0, 256, 300 * 200).astype(np.uint8)  # noisy: the table fills fast
    palette = bytes(rng.randint(0, 256, 768).astype(np.uint8))
    data = gif(300, 200, bytes(indices), palette)
    want = np.frombuffer(palette, np.uint8).reshape(256, 3)[indices].reshape(200, 300, 3)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), want)
    assert_like_pillow(data, "GIF without clear codes")
    got = np.asarray(cbir.preprocess_image(data, resize_before_rgb=True, size=224))
    assert got.shape == (224, 224, 3)


def test_gif_without_a_palette_is_gray_and_a_small_frame_sits_on_the_transparent_colour():
    rng = np.random.RandomState(4)
    gray = gif(40, 30, bytes(rng.randint(0, 256, 1200).astype(np.uint8)))  # no colour table
    assert Image.open(io.BytesIO(gray)).mode == "L"
    assert_like_pillow(gray, "GIF without a palette")
    palette = bytes(rng.randint(0, 256, 768).astype(np.uint8))
    small = gif(50, 40, bytes(rng.randint(0, 200, 20 * 10).astype(np.uint8)), palette,
                frame=(7, 9, 20, 10), transparent=230)
    got = np.asarray(cbir.preprocess_image(small, size=224))
    assert_like_pillow(small, "GIF frame smaller than its canvas")
    corner = np.asarray(cbir.preprocess_image(small, size=50))  # not a square: still resized
    assert got.shape == (224, 224, 3) and corner.shape == (50, 50, 3)


def test_16_bit_gray_png_keeps_its_high_byte_with_or_without_trns():
    """Pillow 9.4 opens a 16-bit gray PNG as "I" (32-bit integers), whose conversion to RGB
    clips every value above 255 to 255: a nearly white image (Pillow's i_trns.png). cbir takes
    the high byte, as it does for every other 16-bit sample, with or without tRNS: a deliberate
    difference from Pillow, as for 16-bit gray PNM and TIFF."""
    y, x = np.mgrid[0:20, 0:30]
    v = ((x * 2000 + y * 1000) % 65536).astype(np.uint16)
    img = Image.fromarray(v, "I;16")
    plain = encode(img, "PNG")
    trns = b"tRNS" + struct.pack(">H", 1234)  # Pillow cannot write it for I;16: added after IHDR
    with_trns = plain[:33] + struct.pack(">I", 2) + trns + struct.pack(">I", zlib.crc32(trns)) + plain[33:]
    assert b"tRNS" in with_trns and b"tRNS" not in plain
    high = np.repeat((v >> 8).astype(np.uint8)[:, :, None], 3, axis=2)
    for data in (plain, with_trns):
        got = np.asarray(cbir.preprocess_image(data, size=30))  # 30x30: rows are resized
        want = np.asarray(Image.fromarray(high, "RGB").resize((30, 30), Image.BICUBIC))
        assert np.array_equal(got, want)
    for data in (plain, with_trns):  # what cbir does not copy: Pillow's clip
        clipped = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        assert np.array_equal(clipped[:, :, 0], np.minimum(v, 255).astype(np.uint8))


def tiff_rgb(samples, bits, extra=None):
    """An uncompressed little-endian TIFF of RGB (or RGB + one extra sample) from an array
    (height, width, channels) of 8- or 16-bit samples; extra: ExtraSamples' value."""
    h, w, c = samples.shape
    pixels = samples.astype("<u2" if bits == 16 else np.uint8).tobytes()
    tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, c, None), (259, 3, 1, 1), (262, 3, 1, 2),
            (273, 4, 1, None), (277, 3, 1, c), (278, 3, 1, h), (279, 4, 1, len(pixels))]
    if extra is not None:
        tags.append((338, 3, 1, extra))
    ifd_at = 8
    after_ifd = ifd_at + 2 + 12 * len(tags) + 4
    bits_at, pixels_at = after_ifd, after_ifd + 2 * c
    entries = b""
    for tag, kind, count, value in tags:
        if tag == 258:
            value = bits_at if c > 2 else bits
        if tag == 273:
            value = pixels_at
        entries += struct.pack("<HHI", tag, kind, count) + (
            struct.pack("<HH", value, 0) if kind == 3 and not (tag == 258 and c > 2) else struct.pack("<I", value))
    return (b"II*\0" + struct.pack("<I", ifd_at) + struct.pack("<H", len(tags)) + entries
            + b"\0\0\0\0" + struct.pack("<" + "H" * c, *([bits] * c)) + pixels)


@pytest.mark.skipif("tiff" not in cbir.image_formats(), reason="this cbir was built without TIFF")
def test_tiff_16_bit_colour_keeps_the_high_byte_and_premultiplied_alpha_is_undone():
    rng = np.random.RandomState(8)
    rgb16 = rng.randint(0, 65536, (24, 24, 3))
    data = tiff_rgb(rgb16, 16)
    want = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(want, (rgb16 >> 8).astype(np.uint8))  # Pillow's RGB;16: the high byte
    assert np.array_equal(np.asarray(cbir.preprocess_image(data, size=24)), want)
    # Associated alpha (Pillow's "RGBa"), 8 and 16 bits: colours divided by alpha as Pillow does.
    for bits in (8, 16):
        top = 255 if bits == 8 else 65535
        a = rng.randint(0, top + 1, (24, 24, 1))
        a[:4] = 0
        colour = (rng.randint(0, top + 1, (24, 24, 3)) * a // top)  # premultiplied
        data = tiff_rgb(np.concatenate([colour, a], axis=2), bits, extra=1)
        want = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        got = np.asarray(cbir.preprocess_image(data, size=24))
        assert np.array_equal(got, want), f"{bits}-bit RGBa"
        cn = np.asarray(cbir.preprocess_image(data, size=224, resize_before_rgb=True))
        ref = np.asarray(Image.open(io.BytesIO(data)).resize((224, 224), Image.BICUBIC).convert("RGB"))
        assert np.abs(cn.astype(int) - ref.astype(int)).max() <= 1, f"{bits}-bit RGBa, cn_clip order"
