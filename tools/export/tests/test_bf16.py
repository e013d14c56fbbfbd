"""bf16 on the CPU as cbir runs it (lib/model/torchscript.cpp, mirrored by
bench/harness/like_cbir.py): the exported fp32 towers, scripted; an image tower wholly converted
with .to(bfloat16), its input cast to bf16; a text tower with only its Linear layers in bf16,
run under autocast (the residual stream and LayerNorm in fp32); output float32. Here on full-size random-weight models of the reference architectures, against fp32 of
the same towers: the lowest centred cosine (each set's mean row subtracted first, so the
direction all rows share does not hide differences) must be >= 0.999 for images and texts.

Inputs: shapes from examples/data/gallery (real JPEGs, resized by Pillow) and token rows of
every length. Random weights are seeded. A ResNet needs two touches to look trained: BatchNorm
statistics measured on the inputs (random ones overflow even in fp32), and each residual
block's last BatchNorm gain scaled to 0.3, as trained ResNets keep their residual branches
small. With random gains the activations reach ~1e3 by layer4, the attention pool's softmax
becomes a hard choice, and bf16's rounding picks other winners (centred cosine 0.85; with the
scaled gains 0.9996). Skipped where the CPU has no
bf16 instructions: cbir refuses bf16 there (it would be emulated), so there is nothing to check.
"""
import glob
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import sys

import cnclip
import dinov2
import export
import make_test_models

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "bench"))
from harness import like_cbir  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


pytestmark = pytest.mark.skipif(not like_cbir.native_bf16(),
                                reason="this CPU has no bf16 instructions (cbir refuses bf16 here)")


def gallery(mean, std, n=4):
    from PIL import Image
    files = sorted(glob.glob(os.path.join(REPO, "examples", "data", "gallery", "*.jpg")))[::97][:n]
    assert len(files) == n
    rgb = [np.asarray(Image.open(f).convert("RGB").resize((224, 224), Image.BICUBIC)) for f in files]
    x = torch.from_numpy(np.stack(rgb)).permute(0, 3, 1, 2).float() / 255.0
    return (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def calibrate_batchnorm(model: torch.nn.Module, run) -> None:
    """Running statistics from one pass over the inputs, as training would have left them."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not bns:
        return
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # a plain average
    model.train()
    with torch.no_grad():
        run()
    model.eval()
    for block in model.modules():
        if hasattr(block, "bn3") and hasattr(block, "downsample"):  # a residual Bottleneck
            block.bn3.weight.data.mul_(0.3)


def centred_cosine(tower: torch.nn.Module, x: torch.Tensor) -> float:
    scripted = torch.jit.script(tower.eval())
    with torch.inference_mode():
        want = F.normalize(scripted(x).float(), dim=1)
        run = like_cbir.bf16(scripted, text=not x.is_floating_point())
        got = F.normalize(run(x).float(), dim=1)
    assert got.shape == want.shape and torch.isfinite(want).all() and torch.isfinite(got).all()
    return F.cosine_similarity(got - got.mean(0), want - want.mean(0), dim=1).min().item()


@pytest.mark.parametrize("key", ["ViT-B-16", "RN50"])
def test_chinese_clip_full_size_bf16_follows_fp32(key):
    torch.manual_seed(0)
    cfg = cnclip.config(key)
    model = cnclip.build(cfg)
    make_test_models.randomize(model, seed=100)
    x = gallery(cnclip.IMAGE_MEAN, cnclip.IMAGE_STD)
    calibrate_batchnorm(model.visual, lambda: model.visual(x))
    image = centred_cosine(export.ClipImageTower(model), x)
    ids = export.trimmed(export.text_inputs(cnclip.CONTEXT_LENGTH, cfg["text"]["vocab_size"], 101, 102))
    text = centred_cosine(export.ClipTextTower(model), ids)
    print(f"{key}: bf16 vs fp32, lowest centred cosine: image {image:.5f}, text {text:.5f}")
    assert image >= 0.999
    assert text >= 0.999


def test_dinov2_full_size_bf16_follows_fp32():
    cfg = dinov2.config("vits14")
    model = dinov2.DinoV2(cfg)
    make_test_models.randomize(model, seed=10)
    got = centred_cosine(dinov2.PooledDinoV2(model, "cls"), gallery(dinov2.IMAGE_MEAN, dinov2.IMAGE_STD))
    print(f"DINOv2 ViT-S/14: bf16 vs fp32, lowest centred cosine {got:.5f}")
    assert got >= 0.999
