"""DINOv2: official key layout, checkpoint round trip, positions, poolings, and attention against
torch's own on the same weights."""
import pytest
import torch
from torch import nn

import dinov2
from common import ExportError


def test_official_layout_round_trip(dino_checkpoint):
    path, _, cfg, model = dino_checkpoint
    saved = torch.load(path)
    assert ("register_tokens" in saved) == (cfg["num_register_tokens"] > 0)
    loaded = dinov2.load_checkpoint(path, "", cfg=cfg)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_block_chunked_keys_load(dino_checkpoint, tmp_path):
    path, _, cfg, model = dino_checkpoint
    sd = torch.load(path)
    chunked = {("blocks.0." + k[len("blocks."):] if k.startswith("blocks.") else k): v
               for k, v in sd.items()}
    assert "blocks.0.1.norm1.weight" in chunked
    torch.save({"state_dict": {"module." + k: v for k, v in chunked.items()}},
               tmp_path / "chunked.pth")
    loaded = dinov2.load_checkpoint(str(tmp_path / "chunked.pth"), "", cfg=cfg)
    assert torch.equal(loaded.blocks[1].norm1.weight, model.blocks[1].norm1.weight)


def test_registers_checkpoint_needs_the_reg_arch(tmp_path):
    cfg = dinov2.config("vits14_reg")
    torch.save(dinov2.official_state_dict(dinov2.DinoV2(cfg)), tmp_path / "reg.pth")
    with pytest.raises(ExportError, match="--arch vits14_reg"):
        dinov2.load_checkpoint(str(tmp_path / "reg.pth"), "vits14")


def test_vits14_reg_matches_the_official_keys():
    sd = dinov2.official_state_dict(dinov2.DinoV2(dinov2.config("vits14_reg")))
    expected = {
        "cls_token": (1, 1, 384), "pos_embed": (1, 1370, 384), "register_tokens": (1, 4, 384),
        "mask_token": (1, 384), "patch_embed.proj.weight": (384, 3, 14, 14),
        "patch_embed.proj.bias": (384,), "blocks.11.norm1.weight": (384,),
        "blocks.11.attn.qkv.weight": (1152, 384), "blocks.11.attn.proj.bias": (384,),
        "blocks.11.ls1.gamma": (384,), "blocks.11.mlp.fc1.weight": (1536, 384),
        "blocks.11.mlp.fc2.weight": (384, 1536), "blocks.11.ls2.gamma": (384,),
        "norm.weight": (384,),
    }
    for key, shape in expected.items():
        assert tuple(sd[key].shape) == shape, key
    assert len([k for k in sd if k.startswith("blocks.0.")]) == 14
    assert "blocks.12.norm1.weight" not in sd


def test_vitg14_feed_forward_is_swiglu_of_the_fused_width():
    ffn = dinov2.SwiGLU(1536, 1536 * 4)
    assert tuple(ffn.w12.weight.shape) == (8192, 1536)
    assert tuple(ffn.w3.weight.shape) == (1536, 4096)
    assert dinov2.config("vitg14")["ffn"] == "swiglu" and dinov2.config("vitg14")["depth"] == 40


def test_attention_equals_torch_multihead_attention():
    torch.manual_seed(0)
    ours = dinov2.Attention(48, 3).eval()
    ref = nn.MultiheadAttention(48, 3, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.load_state_dict(ours.proj.state_dict())
        x = torch.randn(2, 9, 48)
        torch.testing.assert_close(ours(x), ref(x, x, x, need_weights=False)[0],
                                   rtol=1e-4, atol=1e-5)


def test_positions_at_the_trained_size_are_the_learnt_ones(dino_checkpoint):
    _, _, cfg, model = dino_checkpoint
    size = cfg["img_size"]
    assert torch.equal(model.positions(size, size), model.pos_embed)
    resampled = model.positions(224, 224)
    assert tuple(resampled.shape) == (1, 1 + 16 * 16, cfg["embed_dim"])
    assert torch.equal(resampled[:, 0], model.pos_embed[:, 0])  # CLS position is not resampled


def test_positions_follow_the_reference_resampling(dino_checkpoint):
    """Offset 0.1 (plain models) goes through scale factors, offset 0 (registers models) through
    an exact size with antialiasing: the two give different grids for the same weights."""
    _, _, cfg, model = dino_checkpoint
    other = dinov2.DinoV2(dict(cfg, interpolate_offset=0.1 - cfg["interpolate_offset"],
                               interpolate_antialias=not cfg["interpolate_antialias"]))
    other.load_state_dict(model.state_dict())
    assert not torch.allclose(other.positions(224, 224), model.positions(224, 224))


def test_poolings(dino_checkpoint):
    _, _, cfg, model = dino_checkpoint
    x = torch.randn(2, 3, 224, 224)
    regs = cfg["num_register_tokens"]
    with torch.no_grad():
        tokens = model(x)
        assert tokens.shape[1] == 1 + regs + 256
        pooled = {p: dinov2.PooledDinoV2(model, p)(x) for p in dinov2.POOLINGS}
    torch.testing.assert_close(pooled["cls"], tokens[:, 0])
    torch.testing.assert_close(pooled["mean_patch"], tokens[:, 1 + regs:].mean(dim=1))
    torch.testing.assert_close(pooled["mean_all"], tokens.mean(dim=1))
    assert not torch.allclose(pooled["mean_all"], pooled["mean_patch"])
    with pytest.raises(ExportError, match="mean_all"):
        dinov2.PooledDinoV2(model, "max")
