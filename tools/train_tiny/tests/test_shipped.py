"""The default model and gallery committed under models/ and examples/data/."""
import filecmp
import os

import pytest
import torch

import bundle as bundle_file  # tools/export
from captions import every_caption
from conftest import SHIPPED_GALLERY, SHIPPED_MODEL
from data import read_gallery, write_gallery
from evaluate import Bundle, evaluate
from shapes import CLASSES
from vocab import build_vocab

GALLERY_PER_CLASS = 8


@pytest.fixture(scope="module")
def bundle():
    return Bundle(SHIPPED_MODEL)


def test_bundle_is_valid_and_small():
    meta = bundle_file.read_meta(SHIPPED_MODEL)  # format, sizes, sha256s and fingerprint
    assert meta["family"] == "chinese-clip" and meta["precision"] == "fp32"
    total = sum(os.path.getsize(os.path.join(SHIPPED_MODEL, f)) for f in os.listdir(SHIPPED_MODEL))
    assert total < 10 * 1024 * 1024


def test_shipped_vocab_is_the_one_the_trainer_builds():
    with open(os.path.join(SHIPPED_MODEL, "vocab.txt"), encoding="utf-8") as f:
        shipped = f.read().split("\n")[:-1]
    assert shipped == build_vocab(every_caption(CLASSES))


def test_gallery_is_the_generators_output(tmp_path):
    write_gallery(str(tmp_path), GALLERY_PER_CLASS, seed=0)
    files, _ = read_gallery(SHIPPED_GALLERY)
    names = sorted(os.listdir(tmp_path / "gallery"))
    assert [os.path.basename(p) for p, _ in files] == names
    assert len(names) == GALLERY_PER_CLASS * len(CLASSES)
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "gallery",
                                               os.path.join(SHIPPED_GALLERY, "gallery"),
                                               names, shallow=False)
    assert not mismatch and not errors
    assert filecmp.cmp(tmp_path / "queries.tsv", os.path.join(SHIPPED_GALLERY, "queries.tsv"),
                       shallow=False)


def test_retrieval_quality_on_the_held_out_gallery():
    r = evaluate(SHIPPED_MODEL, SHIPPED_GALLERY)
    assert r["zh_precision_at_5"] >= 0.8, r
    assert r["en_precision_at_5"] >= 0.8, r
    assert r["image_nearest_same_class"] >= 0.9, r


def test_towers_ignore_batch_and_padding(bundle):
    texts = ["红色的圆形", "a picture of a blue hexagon", "白"]
    one_by_one = torch.cat([bundle.embed_texts([t]) for t in texts])
    assert torch.allclose(bundle.embed_texts(texts), one_by_one, atol=1e-5)
    paths = [p for p, _ in read_gallery(SHIPPED_GALLERY)[0][:5]]
    assert torch.allclose(bundle.embed_images(paths, batch=5),
                          torch.cat([bundle.embed_images([p]) for p in paths]), atol=1e-5)
