"""Photo facts (issue 19) read at ingest: the format, and from EXIF the capture time and its
offset, camera make and model, GPS position; then filters over them and `cbir export`.

The EXIF blocks are built here, byte by byte, with known tags (Pillow 9.4 cannot write the EXIF
and GPS sub-IFDs), and put where each format keeps them: a JPEG's APP1, a PNG's eXIf chunk and a
WebP's EXIF chunk (by Pillow), a HEIC's and an AVIF's Exif item (heif-enc from that JPEG,
avifenc --exif), and a TIFF's own IFDs (the whole TIFF written here, its IFDs after 75 KiB of
pixels, as libtiff places them). The expectations are the tags' values, not another reader's.
"""
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cbir

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "tiny-bilingual"
STRICT = os.environ.get("CI", "").lower() in ("true", "1")

MAKE, CAMERA = "Apple", "iPhone 15 Pro"
TAKEN = "2024:07:14 18:30:05"
TAKEN_SECONDS = 1720981805  # 2024-07-14 18:30:05 read as UTC
OFFSET = "+02:00"
LAT = (48, 51, 23.76)   # 48.8566 N
LON = (2, 21, 7.92)     # 2.3522 W (west: negative)
WANT_LAT, WANT_LON = 48 + 51 / 60 + 23.76 / 3600, -(2 + 21 / 60 + 7.92 / 3600)


def skip(why):
    (pytest.fail if STRICT else pytest.skip)(why)


class Ifd:
    """A TIFF IFD's entries: (tag, type, count, payload bytes)."""

    def __init__(self):
        self.entries = []

    def ascii(self, tag, text):
        data = text.encode() + b"\0"
        self.entries.append((tag, 2, len(data), data))

    def short(self, tag, *values):
        self.entries.append((tag, 3, len(values), struct.pack(f"<{len(values)}H", *values)))

    def long(self, tag, value):
        self.entries.append((tag, 4, 1, struct.pack("<I", value)))

    def rationals(self, tag, values):
        data = b"".join(struct.pack("<II", round(v * 10000), 10000) for v in values)
        self.entries.append((tag, 5, len(values), data))

    def size(self):
        return 2 + 12 * len(self.entries) + 4 + sum(len(d) for *_, d in self.entries if len(d) > 4)

    def pack(self, at, next_ifd=0):
        """The IFD placed at offset `at` of the stream, its long values right after it."""
        head, tail = [struct.pack("<H", len(self.entries))], []
        data_at = at + 2 + 12 * len(self.entries) + 4
        for tag, typ, count, data in sorted(self.entries):
            if len(data) <= 4:
                head.append(struct.pack("<HHI", tag, typ, count) + data.ljust(4, b"\0"))
            else:
                head.append(struct.pack("<HHII", tag, typ, count, data_at + sum(map(len, tail))))
                tail.append(data)
        return b"".join(head) + struct.pack("<I", next_ifd) + b"".join(tail)


def exif_ifds(ifd0, offset=OFFSET, gps=True):
    """Fills IFD0 with the camera and the sub-IFD pointers; returns the EXIF and GPS IFDs."""
    ifd0.ascii(0x010F, MAKE)
    ifd0.ascii(0x0110, CAMERA)
    exif = Ifd()
    exif.ascii(0x9003, TAKEN)
    if offset:
        exif.ascii(0x9011, offset)
    g = Ifd()
    g.ascii(0x0001, "N")
    g.rationals(0x0002, LAT)
    g.ascii(0x0003, "W")
    g.rationals(0x0004, LON)
    return exif, (g if gps else None)


def tiff_stream(ifd0, exif, gps, pixels=b"", at=8):
    """A little-endian TIFF stream: header, pixel bytes, then IFD0, the EXIF and GPS IFDs."""
    ifd0_at = at + len(pixels)
    # The pointers' values depend on IFD0's size, which they do not change (4-byte longs).
    ifd0.long(0x8769, 0)
    if gps:
        ifd0.long(0x8825, 0)
    exif_at = ifd0_at + ifd0.size()
    gps_at = exif_at + exif.size()
    ifd0.entries = [e for e in ifd0.entries if e[0] not in (0x8769, 0x8825)]
    ifd0.long(0x8769, exif_at)
    if gps:
        ifd0.long(0x8825, gps_at)
    out = b"II*\0" + struct.pack("<I", ifd0_at) + pixels + ifd0.pack(ifd0_at) + exif.pack(exif_at)
    return out + (gps.pack(gps_at) if gps else b"")


def exif_block(**kw):
    ifd0 = Ifd()
    exif, gps = exif_ifds(ifd0, **kw)
    return b"Exif\0\0" + tiff_stream(ifd0, exif, gps)


def picture(w=96, h=64, seed=0):
    rng = np.random.RandomState(seed)
    return Image.fromarray((rng.rand(h, w, 3) * 255).astype(np.uint8), "RGB")


def write_tiff(path, w=160, h=160):
    """An uncompressed RGB TIFF whose IFDs come after its 75 KiB of pixels."""
    pixels = np.asarray(picture(w, h, 3)).tobytes()
    ifd0 = Ifd()
    ifd0.short(256, w)
    ifd0.short(257, h)
    ifd0.short(258, 8, 8, 8)
    ifd0.short(259, 1)
    ifd0.short(262, 2)
    ifd0.long(273, 8)
    ifd0.short(277, 3)
    ifd0.short(278, h)
    ifd0.long(279, len(pixels))
    exif, gps = exif_ifds(ifd0)
    Path(path).write_bytes(tiff_stream(ifd0, exif, gps, pixels))


def tool(name):
    exe = shutil.which(name)
    if exe is None:
        skip(f"{name} is not installed (scripts/setup installs it)")
    return exe


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    d = tmp_path_factory.mktemp("photos")
    block = exif_block()
    picture().save(d / "full.jpg", exif=block, quality=90)
    picture(seed=1).save(d / "full.png", exif=block)
    picture(seed=2).save(d / "full.webp", exif=block, lossless=True)
    write_tiff(d / "full.tiff")
    picture(seed=4).save(d / "no_offset.jpg", exif=exif_block(offset=None, gps=False))
    picture(seed=5).save(d / "plain.jpg")
    picture(seed=6).save(d / "plain.png")
    formats = cbir.image_formats()
    if "heic" in formats:
        subprocess.run([tool("heif-enc"), str(d / "full.jpg"), "-o", str(d / "full.heic")],
                       check=True, capture_output=True)
    if "avif" in formats:
        (d / "exif.bin").write_bytes(block[6:])
        subprocess.run([tool("avifenc"), "--exif", str(d / "exif.bin"), str(d / "full.png"),
                        str(d / "full.avif")], check=True, capture_output=True)
        (d / "exif.bin").unlink()
    return d


@pytest.fixture(scope="module")
def indexed(photos, tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "c"
    with cbir.Model(MODEL) as m, cbir.Collection(db, model=m, create=True) as c:
        report = c.ingest(m, photos)
        assert report.failed == 0, report.failures
        ids = {Path(c.get(i).uri).name: i for i in c.ids()}
    return db, ids


def test_exif_facts_are_read_from_every_format_that_carries_them(indexed):
    db, ids = indexed
    with cbir.Collection(db, read_only=True) as c:
        full = [n for n in ids if n.startswith("full.")]
        assert {"full.jpg", "full.png", "full.webp", "full.tiff"} <= set(full)
        for name in full:
            p = c.photo(ids[name])
            want_format = {"jpg": "jpeg", "tiff": "tiff", "png": "png", "webp": "webp",
                           "heic": "heic", "avif": "avif"}[name.split(".")[1]]
            assert p.format == want_format, name
            assert (p.make, p.model) == (MAKE, CAMERA), name
            assert p.taken == TAKEN_SECONDS and p.offset_minutes == 120, name
            assert p.lat == pytest.approx(WANT_LAT, abs=1e-6), name
            assert p.lon == pytest.approx(WANT_LON, abs=1e-6), name
            assert c.get(ids[name]).width > 0
        p = c.photo(ids["no_offset.jpg"])
        assert p.taken == TAKEN_SECONDS and p.offset_minutes is None
        assert p.lat is None and p.lon is None
        for name in ("plain.jpg", "plain.png"):
            p = c.photo(ids[name])
            assert p.format == name.split(".")[1].replace("jpg", "jpeg")
            assert p.taken is None and p.make == "" and p.lat is None


def test_filters_select_by_the_facts(indexed):
    db, ids = indexed
    with cbir.Collection(db, read_only=True) as c:
        v = c.vector(ids["plain.jpg"])

        def names(where):
            return {Path(h.uri).name for h in c.search(v, k=50, where=where)}

        with_gps = {n for n in ids if n.startswith("full.")}
        assert names("make = 'Apple' and taken between '2024-07-14' and '2024-07-15'") == \
            with_gps | {"no_offset.jpg"}
        assert names("near(48.8566, -2.3522, 1)") == with_gps
        assert names("near(48.8566, 2.3522, 1)") == set()  # the photos are west of Greenwich
        assert names("format = 'png'") == {"full.png", "plain.png"}
        assert names("not taken >= '2000-01-01'") == {"plain.jpg", "plain.png"}


def test_export_writes_the_facts_and_attributes(indexed, tmp_path):
    db, ids = indexed
    with cbir.Collection(db) as c:
        c.set_attrs({ids["plain.png"]: {"album": "Rome", "stars": 4, "fav": True,
                                        "seen": cbir.Time(1700000000), "score": 0.25}})
    cli = REPO / "build" / "cli" / "cbir"
    cli = Path(os.environ.get("CBIR_CLI", cli))
    if not cli.exists():
        pytest.skip(f"no cbir command line at {cli} (set CBIR_CLI)")
    subprocess.run([str(cli), "export", "--db", str(db), "--out", str(tmp_path / "x")],
                   check=True, capture_output=True)
    rows = {Path(r["uri"]).name: r for r in map(json.loads, open(tmp_path / "x.jsonl"))}
    full = rows["full.jpg"]["photo"]
    assert full == {"format": "jpeg", "taken": "2024-07-14T18:30:05+02:00", "make": MAKE,
                    "model": CAMERA, "lat": pytest.approx(WANT_LAT), "lon": pytest.approx(WANT_LON)}
    assert rows["no_offset.jpg"]["photo"]["taken"] == "2024-07-14T18:30:05"
    assert rows["plain.jpg"]["photo"] == {"format": "jpeg"}
    assert rows["plain.png"]["attrs"] == {
        "album": {"string": "Rome"}, "stars": {"int": 4}, "fav": {"bool": True},
        "seen": {"time": "2023-11-14T22:13:20Z"}, "score": {"float": 0.25}}
    assert rows["plain.jpg"]["attrs"] == {}
