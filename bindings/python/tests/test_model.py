"""cbir.Model: opening, embedding texts and images, classifying, errors, closing."""
import json
from pathlib import Path

import numpy as np
import pytest

import cbir
from conftest import MODEL, label, needs_shipped_model


def test_info_describes_the_bundle(model):
    info = model.info
    bundle = json.loads((MODEL / "bundle.json").read_text())
    assert model.dim == info.dim == bundle["embed_dim"] > 0
    assert info.fingerprint.startswith("sha256:") and info.fingerprint == bundle["fingerprint"]
    assert info.has_image and info.has_text and info.context_length > 2
    assert Path(info.path).resolve() == MODEL.resolve()


def test_text_embeddings_are_unit_rows_and_deterministic(model):
    v = model.embed_texts(["a red circle", "红色的圆形", "a red circle", ""])
    assert isinstance(v, np.ndarray) and v.dtype == np.float32 and v.shape == (4, model.dim)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(v[0], v[2], atol=1e-6)
    assert not np.allclose(v[0], v[1])
    np.testing.assert_allclose(model.embed_text("a red circle"), v[0], atol=1e-6)
    assert model.embed_texts([]).shape == (0, model.dim)


def test_english_and_chinese_queries_agree(model):
    needs_shipped_model()
    en = model.embed_texts(["a red circle", "a blue square"])
    zh = model.embed_texts(["红色的圆形", "蓝色的正方形"])
    sim = en @ zh.T
    # Each English query is closer to its own translation than to the other one.
    assert sim[0, 0] > sim[0, 1] and sim[1, 1] > sim[1, 0]


def test_file_bytes_and_pixels_give_the_same_embedding(model, gallery):
    from PIL import Image
    path = gallery[0]
    from_file = model.embed_image(path)
    from_bytes = model.embed_image(Path(path).read_bytes())
    pixels = np.asarray(Image.open(path).convert("RGB"))
    from_array = model.embed_image(pixels)
    from_pil = model.embed_image(Image.open(path))
    assert from_file.shape == (model.dim,)
    np.testing.assert_allclose(np.linalg.norm(from_file), 1.0, atol=1e-5)
    np.testing.assert_allclose(from_bytes, from_file, atol=1e-6)
    # Pillow decodes JPEG with libjpeg(-turbo) as cbir does: the same pixels.
    np.testing.assert_allclose(from_array, from_file, atol=1e-4)
    np.testing.assert_allclose(from_pil, from_file, atol=1e-4)
    rgba = np.concatenate([pixels, np.full(pixels.shape[:2] + (1,), 255, np.uint8)], axis=2)
    np.testing.assert_allclose(model.embed_image(rgba), from_file, atol=1e-4)


def test_batch_matches_single_images(model, gallery):
    batch = model.embed_images(gallery[:5])
    assert batch.ok and batch.failed == [] and len(batch) == 5
    for i, path in enumerate(gallery[:5]):
        np.testing.assert_allclose(batch.vectors[i], model.embed_image(path), atol=1e-5)


def test_one_bad_image_never_fails_the_batch(model, gallery, tmp_path):
    good = Path(gallery[0]).read_bytes(), Path(gallery[1]).read_bytes()
    truncated = good[0][:300]
    batch = model.embed_images([good[0], b"this is not an image", good[1], truncated])
    assert not batch.ok and batch.failed == [1, 3]
    assert batch.errors[0] is None and batch.errors[2] is None
    assert isinstance(batch.errors[1], cbir.ImageError)
    assert batch.errors[1].code == cbir.Status.EIMAGE_FORMAT
    assert "image 1" in str(batch.errors[1]) and "buffer" in batch.errors[1].message
    assert isinstance(batch.errors[3], cbir.ImageError)
    assert not np.any(batch.vectors[1]) and not np.any(batch.vectors[3])
    np.testing.assert_allclose(batch.vectors[0], model.embed_image(gallery[0]), atol=1e-5)
    np.testing.assert_allclose(batch.vectors[2], model.embed_image(gallery[1]), atol=1e-5)
    with pytest.raises(cbir.ImageError) as e:
        batch.check()
    assert e.value is batch.errors[1]
    # Files: a missing one among good ones.
    missing = tmp_path / "missing.jpg"
    files = model.embed_images([gallery[0], str(missing), gallery[1]])
    assert files.failed == [1] and isinstance(files.errors[1], cbir.NotFoundError)
    assert "image 1" in str(files.errors[1]) and "missing.jpg" in str(files.errors[1])
    np.testing.assert_allclose(files.vectors[2], batch.vectors[2], atol=1e-5)


def test_bad_images_raise_with_code_and_message(model, gallery, tmp_path):
    with pytest.raises(cbir.ImageError) as e:
        model.embed_image(b"this is not an image")
    assert e.value.code == cbir.Status.EIMAGE_FORMAT and "buffer" in e.value.message
    truncated = Path(gallery[0]).read_bytes()[:300]
    with pytest.raises(cbir.ImageError):
        model.embed_image(truncated)
    with pytest.raises(cbir.NotFoundError) as e:
        model.embed_image(str(tmp_path / "missing.jpg"))
    assert e.value.code == cbir.Status.ENOTFOUND and "missing.jpg" in e.value.message
    with pytest.raises(TypeError):
        model.embed_images([gallery[0], b"bytes"])
    with pytest.raises(ValueError):
        model.embed_image(np.zeros((4, 4, 2), np.uint8))


def test_classify_gives_a_distribution_that_picks_the_right_label(model, gallery):
    labels = ["a red circle", "a blue square", "a green triangle"]
    probs = model.classify(gallery[0], labels)
    assert probs.shape == (3,) and abs(float(probs.sum()) - 1.0) < 1e-4
    np.testing.assert_allclose(model.classify(model.embed_image(gallery[0]), labels), probs, atol=1e-6)
    needs_shipped_model()
    red = next(p for p in gallery if label(p) == "red_circle")
    assert np.argmax(model.classify(red, labels)) == 0


def test_opening_what_is_not_a_model_fails_clearly(tmp_path):
    with pytest.raises(cbir.NotFoundError) as e:
        cbir.Model(tmp_path / "nowhere")
    assert "nowhere" in e.value.message
    (tmp_path / "bundle.json").write_text("{ not json")
    with pytest.raises(cbir.CorruptError) as e:
        cbir.Model(tmp_path)
    assert "bundle.json" in e.value.message
    with pytest.raises(ValueError):
        cbir.Model(MODEL, precision="fp64")
    with pytest.raises(ValueError):
        cbir.Model(MODEL, towers="both")


def test_an_image_only_model_embeds_images_and_refuses_texts(model, gallery):
    with cbir.Model(MODEL, towers="image") as image_only:
        assert image_only.info.has_image and not image_only.info.has_text
        assert image_only.info.fingerprint == model.info.fingerprint
        with pytest.raises(cbir.UnsupportedError) as e:
            image_only.embed_text("a red circle")
        assert "CBIR_TOWER_IMAGE" in e.value.message
        path = gallery[0]
        assert np.allclose(image_only.embed_image(path), model.embed_image(path), atol=1e-5)


def test_a_closed_model_raises_closed_error(model):
    m = cbir.Model(MODEL)
    with m:
        assert not m.closed
    assert m.closed and "closed" in repr(m)
    with pytest.raises(cbir.ClosedError) as e:
        m.embed_text("x")
    assert e.value.code == cbir.Status.ECLOSED
    m.close()  # idempotent
