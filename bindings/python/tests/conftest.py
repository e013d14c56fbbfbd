"""Shared fixtures: the model, the gallery, and a collection holding the whole gallery.

The suite runs on the shipped default model (models/tiny-bilingual) and its gallery
(examples/data/gallery), where it also checks that searches bring back the right pictures.
CBIR_MODEL / CBIR_GALLERY point it elsewhere (e.g. a random-weight test bundle); the checks of
search quality then skip, saying so. libcbir is found through CBIR_LIBRARY or the system.
"""
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MODEL = Path(os.environ.get("CBIR_MODEL") or REPO / "models" / "tiny-bilingual")
GALLERY = Path(os.environ.get("CBIR_GALLERY") or REPO / "examples" / "data" / "gallery")
SHIPPED = "CBIR_MODEL" not in os.environ
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif"}

# The package under test is this source tree (test_binding.py installs it separately).
sys.path.insert(0, str(REPO / "bindings" / "python"))
import cbir  # noqa: E402


def label(uri):
    """"red_circle" for .../red_circle_07.jpg (the gallery's naming); None otherwise."""
    m = re.match(r"([a-z]+_[a-z]+)_\d+\.jpg$", os.path.basename(uri))
    return m.group(1) if m else None


def needs_shipped_model():
    if not SHIPPED:
        pytest.skip(f"search quality is only checked on the shipped model; CBIR_MODEL={MODEL}")


@pytest.fixture(scope="session")
def model():
    if not (MODEL / "bundle.json").is_file():
        pytest.skip(f"no model bundle at {MODEL} (train it with tools/train_tiny, or set CBIR_MODEL)")
    with cbir.Model(MODEL) as m:
        yield m


@pytest.fixture(scope="session")
def gallery():
    """The gallery's image files, sorted."""
    files = sorted(str(p) for p in GALLERY.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS) \
        if GALLERY.is_dir() else []
    if len(files) < 8:
        pytest.skip(f"no gallery of at least 8 images at {GALLERY} (set CBIR_GALLERY)")
    return files


@pytest.fixture(scope="session")
def indexed(model, gallery, tmp_path_factory):
    """A collection holding every gallery image, shared by the read-only tests."""
    path = tmp_path_factory.mktemp("indexed") / "coll"
    with cbir.Collection(path, model=model, create=True) as coll:
        report = coll.ingest(model, str(GALLERY))
        assert report.added == len(gallery) and report.failed == 0, report
        yield coll


@pytest.fixture
def mixed_folder(gallery, tmp_path):
    """Four good gallery images and three bad files: text named .jpg, a truncated JPEG, an
    empty file."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = [shutil.copy(p, folder) for p in gallery[:4]]
    (folder / "notes.jpg").write_text("this is not an image\n")
    jpeg = next(p for p in gallery if p.endswith(".jpg"))
    (folder / "truncated.jpg").write_bytes(Path(jpeg).read_bytes()[:300])
    (folder / "empty.png").write_bytes(b"")
    return folder, [str(Path(p).resolve()) for p in good]
