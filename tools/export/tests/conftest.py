"""Makes tools/export importable and offers tiny seeded models in the official checkpoint layouts."""
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cnclip  # noqa: E402
import dinov2  # noqa: E402
import make_test_models  # noqa: E402


def tiny_clip_config(key: str = "cnclip-vit") -> dict:
    cfg = make_test_models.CLIP_MODELS[key]
    return dict(cfg, text=dict(cfg["text"], vocab_size=len(make_test_models.TINY_VOCAB)))


@pytest.fixture
def vocab_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(make_test_models.TINY_VOCAB) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(params=["cnclip-vit", "cnclip-rn"])
def clip_checkpoint(request, tmp_path):
    """(path of an official-layout checkpoint, its config JSON path, config, the model)."""
    cfg = tiny_clip_config(request.param)
    model = cnclip.build(cfg).eval()
    make_test_models.randomize(model, seed=1)
    path = tmp_path / f"clip_cn_{request.param}.pt"
    torch.save(cnclip.official_state_dict(model), path)
    cfg_path = tmp_path / f"{request.param}.json"
    make_test_models.write_json(str(cfg_path), cfg)
    return str(path), str(cfg_path), cfg, model


@pytest.fixture(params=["dinov2", "dinov2-reg"])
def dino_checkpoint(request, tmp_path):
    cfg = dict(make_test_models.DINO_MODELS[request.param])
    model = dinov2.DinoV2(cfg).eval()
    make_test_models.randomize(model, seed=2)
    path = tmp_path / "dinov2_tiny_pretrain.pth"
    torch.save(dinov2.official_state_dict(model), path)
    cfg_path = tmp_path / f"{request.param}.json"
    make_test_models.write_json(str(cfg_path), cfg)
    return str(path), str(cfg_path), cfg, model
