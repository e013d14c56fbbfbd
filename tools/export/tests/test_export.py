"""export.py end to end: tiny official-layout checkpoints -> bundles; the saved TorchScript towers
against the eager models; bundle.json validity, fingerprint and corruption detection; the
exporter's refusals; the test-model factory."""
import copy
import json
import os
import shutil
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import bundle
import cnclip
import dinov2
import export
import make_test_models
from common import ExportError


def export_clip(ckpt, tmp_path, vocab, *extra):
    path, cfg_path, _, _ = ckpt
    out = str(tmp_path / "bundle")
    assert export.main(["cnclip", "--config", cfg_path, "--checkpoint", path, "--vocab", vocab,
                        "--out", out, *extra]) == 0
    return out


def cosines(a, b):
    return F.cosine_similarity(a, b, dim=1)


def test_clip_bundle_matches_the_eager_model(clip_checkpoint, tmp_path, vocab_file):
    out = export_clip(clip_checkpoint, tmp_path, vocab_file)
    _, _, cfg, model = clip_checkpoint
    meta = bundle.read_meta(out)
    assert meta["family"] == "chinese-clip" and meta["precision"] == "fp32"
    assert meta["embed_dim"] == cfg["embed_dim"]
    assert meta["logit_scale"] == pytest.approx(float(model.logit_scale.exp()))
    assert meta["text"]["context_length"] == 52 and meta["text"]["vocab"] == "vocab.txt"
    assert meta["image"]["preprocess"]["resize"] == "squash"
    assert "pooling" not in meta["image"]
    assert sorted(meta["files"]) == ["image.pt", "text.pt", "vocab.txt"]
    assert open(os.path.join(out, "vocab.txt"), "rb").read() == open(vocab_file, "rb").read()
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(out).st_mode & 0o777 == 0o777 & ~umask  # not left private like a temp dir

    image = torch.jit.load(os.path.join(out, "image.pt"))
    text = torch.jit.load(os.path.join(out, "text.pt"))
    x = export.image_inputs(224, cnclip.IMAGE_MEAN, cnclip.IMAGE_STD)
    ids = export.text_inputs(52, cfg["text"]["vocab_size"], 2, 3)
    with torch.no_grad():
        want_img, want_txt = model.encode_image(x), model.encode_text(ids)
        for b in (1, 3, 8):
            assert cosines(image(x[:b]), want_img[:b]).min() >= 0.9999
            assert cosines(text(ids[:b]), want_txt[:b]).min() >= 0.9999
        short = export.trimmed(ids[:3])
        assert short.shape[1] < 52
        assert cosines(text(short), want_txt[:3]).min() >= 0.9999
        assert image(x[:2]).dtype == torch.float32 and text(ids[:2]).dtype == torch.float32


def test_dinov2_bundles_match_the_eager_model(dino_checkpoint, tmp_path):
    path, cfg_path, cfg, model = dino_checkpoint
    x = export.image_inputs(224, dinov2.IMAGE_MEAN, dinov2.IMAGE_STD)
    for pooling in dinov2.POOLINGS:
        out = str(tmp_path / pooling)
        assert export.main(["dinov2", "--config", cfg_path, "--checkpoint", path,
                            "--pooling", pooling, "--out", out]) == 0
        meta = bundle.read_meta(out)
        assert meta["image"]["pooling"] == pooling and "text" not in meta
        assert meta["image"]["preprocess"]["resize"] == "shorter_side_then_center_crop"
        assert (meta["image"]["preprocess"]["size"], meta["image"]["preprocess"]["crop"]) == (256, 224)
        image = torch.jit.load(os.path.join(out, "image.pt"))
        with torch.no_grad():
            want = dinov2.PooledDinoV2(model, pooling)(x)
            for b in (1, 3, 8):
                assert cosines(image(x[:b]), want[:b]).min() >= 0.9999


def test_int8_bundle(clip_checkpoint, tmp_path, vocab_file):
    out = export_clip(clip_checkpoint, tmp_path, vocab_file, "--quantize", "int8")
    meta = bundle.read_meta(out)
    assert meta["precision"] == "int8"
    checks = meta["source"]["checks"]
    assert checks["image_min_cosine_vs_fp32"] >= 0.99 and checks["text_min_cosine_vs_fp32"] >= 0.99
    for name in ("image.pt", "text.pt"):  # dynamic int8 Linear layers hold packed weights
        tower = torch.jit.load(os.path.join(out, name))
        assert "LinearPackedParams" in {m.original_name for m in tower.modules()}


def test_int8_without_quantize_dynamic_is_refused_clearly(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.ao.quantization", None)  # as a torch without it
    with pytest.raises(ExportError, match="needs torch.ao.quantization.quantize_dynamic"):
        export.with_precision(torch.nn.Linear(2, 2), "int8")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="--half needs CUDA (tools/gpu/check.sh)")
def test_half_bundle(clip_checkpoint, tmp_path, vocab_file):
    out = export_clip(clip_checkpoint, tmp_path, vocab_file, "--half")
    meta = bundle.read_meta(out)
    assert meta["precision"] == "fp16"
    checks = meta["source"]["checks"]
    assert checks["image_min_cosine_vs_fp32"] >= 0.99 and checks["text_min_cosine_vs_fp32"] >= 0.99
    image = torch.jit.load(os.path.join(out, "image.pt"), map_location="cuda")
    assert {p.dtype for p in image.parameters()} == {torch.float16}
    x = export.image_inputs(224, cnclip.IMAGE_MEAN, cnclip.IMAGE_STD).cuda()
    with torch.no_grad():
        got = image(x)  # float32 pixels in, float32 rows out, fp16 inside
        want = clip_checkpoint[3].encode_image(x.cpu())
    assert got.dtype == torch.float32
    assert cosines(got.cpu(), want).min() >= 0.99


def test_fingerprint_covers_files_and_settings(clip_checkpoint, tmp_path, vocab_file):
    out = export_clip(clip_checkpoint, tmp_path, vocab_file)
    meta = bundle.read_meta(out)
    assert meta["fingerprint"].startswith("sha256:") and len(meta["fingerprint"]) == 71
    changed = json.loads(json.dumps(meta))
    changed["image"]["preprocess"]["mean"][0] = 0.5
    assert bundle.fingerprint(changed) != meta["fingerprint"]
    changed = json.loads(json.dumps(meta))
    changed["files"]["text.pt"]["sha256"] = "0" * 64
    assert bundle.fingerprint(changed) != meta["fingerprint"]
    changed = json.loads(json.dumps(meta))
    changed["name"], changed["source"] = "renamed", {}
    assert bundle.fingerprint(changed) == meta["fingerprint"]  # names and provenance do not count


def test_fingerprint_recipe_is_the_documented_one(clip_checkpoint, tmp_path, vocab_file):
    """docs/bundle.md spelled out by hand, so a change to bundle.py cannot silently move it."""
    import hashlib
    meta = bundle.read_meta(export_clip(clip_checkpoint, tmp_path, vocab_file))
    files = "".join(meta["files"][n]["sha256"] for n in ("image.pt", "text.pt", "vocab.txt"))
    p = meta["image"]["preprocess"]
    config = ('{"image":{"pooling":null,"preprocess":{"crop":224,"interpolation":"bicubic",'
              '"mean":[0.48145466,0.4578275,0.40821073],"order":"resize_then_rgb",'
              '"resize":"squash","size":224,"std":[0.26862954,0.26130258,0.27577711]}},'
              '"text":{"context_length":52,"lower_case":true,"tokenizer":"bert_wordpiece"}}')
    assert p["size"] == 224
    want = "sha256:" + hashlib.sha256((files + config).encode()).hexdigest()
    assert meta["fingerprint"] == want


def test_corrupt_bundles_are_refused(clip_checkpoint, tmp_path, vocab_file):
    out = export_clip(clip_checkpoint, tmp_path, vocab_file)
    spoilt = str(tmp_path / "spoilt")

    def fresh():
        shutil.rmtree(spoilt, ignore_errors=True)
        shutil.copytree(out, spoilt)
        return spoilt

    with open(os.path.join(fresh(), "image.pt"), "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ExportError, match="image.pt: does not match its sha256"):
        bundle.read_meta(spoilt)
    os.remove(os.path.join(fresh(), "vocab.txt"))
    with pytest.raises(ExportError, match="vocab.txt, which is missing"):
        bundle.read_meta(spoilt)
    with open(os.path.join(fresh(), "bundle.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(ExportError, match="not valid JSON"):
        bundle.read_meta(spoilt)
    meta = json.load(open(os.path.join(fresh(), "bundle.json")))
    meta["image"]["preprocess"]["size"] = 336
    json.dump(meta, open(os.path.join(spoilt, "bundle.json"), "w"))
    with pytest.raises(ExportError, match="fingerprint does not match"):
        bundle.read_meta(spoilt)


def test_refusals(clip_checkpoint, tmp_path, vocab_file, capsys):
    path, cfg_path, _, _ = clip_checkpoint
    base = ["cnclip", "--config", cfg_path, "--checkpoint", path]
    out = str(tmp_path / "out")

    short_vocab = tmp_path / "short.txt"
    short_vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n", encoding="utf-8")
    assert export.main(base + ["--vocab", str(short_vocab), "--out", out]) == 1
    assert "has 4 entries but the text tower has" in capsys.readouterr().err
    assert not os.path.exists(out)

    assert export.main(base + ["--vocab", vocab_file, "--out", out, "--quantize", "int8",
                               "--half"]) == 1
    assert "exclude each other" in capsys.readouterr().err

    if not torch.cuda.is_available():
        assert export.main(base + ["--vocab", vocab_file, "--out", out, "--half"]) == 1
        assert "--half needs a CUDA device" in capsys.readouterr().err

    os.makedirs(out)
    open(os.path.join(out, "keep.txt"), "w").close()
    assert export.main(base + ["--vocab", vocab_file, "--out", out]) == 1
    assert "pass --force" in capsys.readouterr().err
    assert os.listdir(out) == ["keep.txt"]
    assert export.main(base + ["--vocab", vocab_file, "--out", out, "--force"]) == 0
    assert "keep.txt" not in os.listdir(out)
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".export-")]  # no leftovers


def test_a_failed_check_writes_nothing(clip_checkpoint, tmp_path, vocab_file, monkeypatch):
    def broken(tower, path, precision):  # a compiled tower that differs from the eager one
        tower = copy.deepcopy(tower)
        with torch.no_grad():
            for p in tower.parameters():
                p.add_(torch.randn_like(p))
        torch.jit.script(tower).save(path)
    monkeypatch.setattr(export, "compile_tower", broken)
    path, cfg_path, _, _ = clip_checkpoint
    out = str(tmp_path / "out")
    with pytest.raises(ExportError, match="compiled against eager"):
        export.export_cnclip(export.parser().parse_args(
            ["cnclip", "--config", cfg_path, "--checkpoint", path, "--vocab", vocab_file,
             "--out", out]))
    assert not os.path.exists(out)


def test_make_test_models_without_golden_data(tmp_path, monkeypatch):
    monkeypatch.delenv("CBIR_GOLDEN_DIR", raising=False)
    out = tmp_path / "models"
    assert make_test_models.main([str(out), "--golden", str(tmp_path / "absent")]) == 0
    index = json.load(open(out / "index.json"))
    assert index["golden"] is False
    dirs = {b["dir"] for b in index["bundles"]}
    half = {"cnclip-vit-fp16"} if torch.cuda.is_available() else set()
    assert dirs == {"cnclip-vit", "cnclip-rn", "cnclip-vit-int8"} | half | {
        f"{k}-{p}" for k in ("dinov2", "dinov2-reg") for p in dinov2.POOLINGS}
    for entry in index["bundles"]:
        folder = out / entry["dir"]
        device = "cuda" if entry["precision"] == "fp16" else "cpu"
        meta = bundle.read_meta(str(folder))
        ref = json.load(open(folder / "reference.json"))
        assert ref["fingerprint"] == meta["fingerprint"]
        # The reference pixels through the bundle's own TorchScript tower give the reference.
        pre = meta["image"]["preprocess"]
        pixels = np.stack([np.fromfile(i["rgb"], dtype=np.uint8).reshape(224, 224, 3)
                           for i in ref["images"]])
        x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255.0
        x = (x - torch.tensor(pre["mean"])[:, None, None]) / torch.tensor(pre["std"])[:, None, None]
        want = torch.tensor([i["embedding"] for i in ref["images"]])
        assert torch.allclose(want.norm(dim=1), torch.ones(len(want)), atol=1e-5)
        with torch.no_grad():
            got = torch.jit.load(str(folder / meta["image"]["file"]), map_location=device)(
                x.to(device)).cpu()
        assert cosines(got, want).min() >= ref["min_cosine"]
        if entry["family"] == "chinese-clip":
            ids = torch.tensor([t["ids"] for t in ref["texts"]])
            with torch.no_grad():
                got = torch.jit.load(str(folder / meta["text"]["file"]), map_location=device)(
                    export.trimmed(ids).to(device)).cpu()
            assert cosines(got, torch.tensor([t["embedding"] for t in ref["texts"]])).min() \
                >= ref["min_cosine"]
            assert sum(ref["classify"]["probabilities"]) == pytest.approx(1.0)
