"""cbir.Tokenizer, cbir.preprocess_image and cbir.probe_image against known outputs: Chinese-CLIP's
own tokenizer and Pillow + torchvision's pixels (../shared/golden, skipped when absent), the
bundle's vocab.txt, and Pillow on the gallery."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

import cbir
from conftest import MODEL, REPO

GOLDEN = Path(os.environ.get("CBIR_GOLDEN_DIR") or REPO.parent / "shared" / "golden")


def golden(name):
    path = GOLDEN / name
    if not path.exists():
        pytest.skip(f"no golden data at {path} (set CBIR_GOLDEN_DIR)")
    return path


def test_tokenizer_matches_chinese_clip_on_the_golden_texts():
    cases = [json.loads(line) for line in golden("tokenizer.jsonl").read_text("utf-8").splitlines()]
    with cbir.Tokenizer(golden("vocab.txt")) as tok:
        assert tok.vocab_size == 21128
        ids, lengths = tok.tokenize([c["text"] for c in cases], 52)
        for i, case in enumerate(cases):
            assert list(ids[i]) == case["ids"], case["text"]
            assert lengths[i] == len(case["tokens"][:50]) + 2
        for case in cases[:50]:
            if len(case["tokens"]) <= 50:
                assert tok.tokens(case["text"]) == case["tokens"], case["text"]


def test_the_models_tokenizer_uses_its_vocab(model):
    vocab = (MODEL / "vocab.txt").read_text("utf-8").splitlines()
    tok = model.tokenizer
    assert tok.vocab_size == len(vocab)
    assert tok.token(0) == vocab[0] and tok.token(len(vocab)) is None
    ids, lengths = tok.tokenize(["a red circle", ""], model.info.context_length)
    words = tok.tokens("A Red Circle")  # lower-cased, as Chinese-CLIP does
    assert words == [w if w in vocab else "[UNK]" for w in ["a", "red", "circle"]]
    assert lengths == [5, 2]
    expected = [vocab.index(t) for t in ["[CLS]", *words, "[SEP]"]]
    assert list(ids[0][:5]) == expected and set(ids[0][5:]) == {vocab.index("[PAD]")}
    assert list(ids[1][:2]) == [vocab.index("[CLS]"), vocab.index("[SEP]")]


def test_a_tokenizer_refuses_what_it_cannot_use(tmp_path):
    with pytest.raises(cbir.NotFoundError) as e:
        cbir.Tokenizer(tmp_path / "nowhere.txt")
    assert "nowhere.txt" in e.value.message
    (tmp_path / "vocab.txt").write_text("a\nb\n")
    with pytest.raises(cbir.CorruptError):
        cbir.Tokenizer(tmp_path / "vocab.txt")
    with cbir.Tokenizer(MODEL) as tok:
        with pytest.raises(cbir.InvalidArgumentError):
            tok.tokenize(["x"], 1)
    with pytest.raises(cbir.ClosedError):
        tok.tokens("x")


def test_a_models_tokenizer_closes_with_the_model():
    m = cbir.Model(MODEL)
    tok = m.tokenizer
    assert tok.tokens("红") == [tok.token(tok.tokenize(["红"])[0][0][1])]
    tok.close()  # borrowed: closing it leaves the model's alone
    assert m.tokenizer.vocab_size > 0
    tok = m.tokenizer
    m.close()
    with pytest.raises(cbir.ClosedError):
        tok.vocab_size


def test_preprocess_matches_pillow_and_torchvision_on_the_golden_images():
    entries = json.loads(golden("preprocess.json").read_text())
    recipes = {"clip224": dict(resize="squash", size=224),
               "dino224": dict(resize="center_crop", size=256, crop=224)}
    for e in entries:
        expected = (GOLDEN / e["rgb"]).read_bytes()
        path = GOLDEN / e["image"]
        for source in (path, path.read_bytes()):
            pixels = cbir.preprocess_image(source, **recipes[e["transform"]])
            assert pixels.shape == (e["height"], e["width"], 3), e
            assert pixels.tobytes() == expected, (e["image"], e["transform"])


def test_preprocess_and_probe_agree_with_pillow_on_the_gallery(gallery):
    Image = pytest.importorskip("PIL.Image")
    path = next(p for p in gallery if p.endswith(".jpg"))
    with Image.open(path) as im:
        width, height = im.size
        expected = np.asarray(im.convert("RGB").resize((100, 100), Image.BICUBIC))
    assert np.array_equal(cbir.preprocess_image(path, size=100), expected)
    assert cbir.probe_image(path) == (height, width)
    assert cbir.probe_image(Path(path).read_bytes()) == (height, width)


def test_bad_images_are_refused_with_their_codes(gallery, tmp_path):
    with pytest.raises(cbir.ImageError) as e:
        cbir.preprocess_image(b"this is not an image")
    assert e.value.code == cbir.Status.EIMAGE_FORMAT and "buffer" in e.value.message
    with pytest.raises(cbir.ImageError) as e:
        cbir.probe_image(b"")
    assert e.value.code == cbir.Status.EIMAGE_EMPTY
    with pytest.raises(cbir.NotFoundError):
        cbir.probe_image(tmp_path / "missing.png")
    with pytest.raises(cbir.InvalidArgumentError):
        cbir.preprocess_image(gallery[0], size=0)
    with pytest.raises(ValueError):
        cbir.preprocess_image(b"x", resize="stretch")
    with pytest.raises(TypeError):
        cbir.probe_image(42)
