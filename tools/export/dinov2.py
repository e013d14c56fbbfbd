"""DINOv2 ViT-S/B/L/g-14 (with and without registers) in plain PyTorch, with pooled outputs.

Written from the public description of DINOv2 (facebookresearch/dinov2): state-dict keys are those
of the released backbones (`dinov2_vitb14_pretrain.pth`, `dinov2_vitb14_reg4_pretrain.pth`, ...):
pre-LN blocks with LayerScale, erf-GELU MLP (SwiGLU for g), final LayerNorm eps 1e-6, positions
learnt at 518x518 (37x37 patches) and resampled bicubically to the input's grid exactly as the
reference does (scale factor with a 0.1 offset; registers models: exact size with antialiasing).
Register tokens sit after CLS and carry no position.

Poolings (what one image becomes):
  cls         the final-norm CLS token (DINOv2's own image embedding)
  mean_patch  mean of the final-norm patch tokens
  mean_all    mean of all final-norm tokens: CLS, registers and patches (the original system's
              choice: the mean of the whole last hidden state)
"""
import math
import re
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn

from common import ExportError, LayerNorm, attend, load_strict, read_checkpoint

POOLINGS = ("cls", "mean_patch", "mean_all")
IMAGE_MEAN = [0.485, 0.456, 0.406]
IMAGE_STD = [0.229, 0.224, 0.225]

_SIZES = {"vits14": (384, 12, 6, "mlp"), "vitb14": (768, 12, 12, "mlp"),
          "vitl14": (1024, 24, 16, "mlp"), "vitg14": (1536, 40, 24, "swiglu")}


def _arch(width: int, depth: int, heads: int, ffn: str, registers: bool) -> dict:
    return {"embed_dim": width, "depth": depth, "num_heads": heads, "ffn": ffn, "patch_size": 14,
            "img_size": 518, "mlp_ratio": 4.0, "num_register_tokens": 4 if registers else 0,
            "interpolate_antialias": registers, "interpolate_offset": 0.0 if registers else 0.1}


# "vitb14" and "vitb14_reg" (checkpoint dinov2_vitb14_reg4_pretrain.pth), etc.
ARCHS: Dict[str, dict] = {}
for _name, (_w, _d, _h, _f) in _SIZES.items():
    ARCHS[_name] = _arch(_w, _d, _h, _f, False)
    ARCHS[_name + "_reg"] = _arch(_w, _d, _h, _f, True)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return self.proj(attend(q, k, v, self.heads))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        hidden = (int(hidden * 2 / 3) + 7) // 8 * 8  # the reference's fused-kernel rounding
        self.w12 = nn.Linear(dim, 2 * hidden)
        self.w3 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.w12(x).chunk(2, dim=-1)
        return self.w3(F.silu(x1) * x2)


class LayerScale(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int, ffn: str):
        super().__init__()
        self.norm1 = LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.ls1 = LayerScale(dim)
        self.norm2 = LayerNorm(dim, eps=1e-6)
        self.mlp = SwiGLU(dim, hidden) if ffn == "swiglu" else Mlp(dim, hidden)
        self.ls2 = LayerScale(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class DinoV2(nn.Module):
    """forward(x [N,3,H,W]) -> final-norm tokens [N, 1 + registers + patches, D]."""

    def __init__(self, cfg: dict):
        super().__init__()
        dim, patch = cfg["embed_dim"], cfg["patch_size"]
        if cfg["ffn"] not in ("mlp", "swiglu"):
            raise ExportError(f"DINOv2 ffn must be 'mlp' or 'swiglu', got {cfg['ffn']!r}")
        if dim % cfg["num_heads"]:
            raise ExportError(f"DINOv2 embed_dim {dim} is not a multiple of num_heads")
        grid = cfg["img_size"] // patch
        self.patch_size = patch
        self.num_register_tokens = cfg["num_register_tokens"]
        self.interpolate_offset = float(cfg["interpolate_offset"])
        self.interpolate_antialias = bool(cfg["interpolate_antialias"])
        self.patch_embed = PatchEmbed(patch, dim)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 1e-6)
        self.pos_embed = nn.Parameter(torch.randn(1, grid * grid + 1, dim) * 0.02)
        # Always a parameter (empty without registers) so TorchScript sees one type.
        self.register_tokens = nn.Parameter(torch.randn(1, self.num_register_tokens, dim) * 1e-6)
        self.mask_token = nn.Parameter(torch.zeros(1, dim))  # training only; kept to load strictly
        hidden = int(dim * cfg.get("mlp_ratio", 4.0))
        self.blocks = nn.ModuleList([Block(dim, cfg["num_heads"], hidden, cfg["ffn"])
                                     for _ in range(cfg["depth"])])
        self.norm = LayerNorm(dim, eps=1e-6)

    def positions(self, h: int, w: int) -> torch.Tensor:
        """The learnt positions resampled to an h x w pixel input, as the reference computes them."""
        n = self.pos_embed.shape[1] - 1
        h0, w0 = h // self.patch_size, w // self.patch_size
        if n == h0 * w0 and h == w:
            return self.pos_embed
        m = int(math.sqrt(n))
        dim = self.pos_embed.shape[2]
        pos = self.pos_embed.float()
        grid = pos[:, 1:].reshape(1, m, m, dim).permute(0, 3, 1, 2)
        if self.interpolate_offset != 0.0:
            scale = [(h0 + self.interpolate_offset) / m, (w0 + self.interpolate_offset) / m]
            grid = F.interpolate(grid, scale_factor=scale, mode="bicubic",
                                 antialias=self.interpolate_antialias)
        else:
            grid = F.interpolate(grid, size=[h0, w0], mode="bicubic",
                                 antialias=self.interpolate_antialias)
        grid = grid.permute(0, 2, 3, 1).reshape(1, h0 * w0, dim)
        return torch.cat([pos[:, :1], grid], dim=1).to(self.pos_embed.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2], x.shape[3]
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.positions(h, w).to(x.dtype)
        if self.num_register_tokens > 0:
            regs = self.register_tokens.expand(x.shape[0], -1, -1).to(x.dtype)
            x = torch.cat([x[:, :1], regs, x[:, 1:]], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class PooledDinoV2(nn.Module):
    """forward(x [N,3,H,W] float32) -> pooled [N, D] float32; the exported image tower."""

    def __init__(self, backbone: DinoV2, pooling: str):
        super().__init__()
        if pooling not in POOLINGS:
            raise ExportError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}")
        self.backbone = backbone
        self.pooling = pooling

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.backbone(x.to(self.backbone.pos_embed.dtype))
        if self.pooling == "cls":
            out = tokens[:, 0]
        elif self.pooling == "mean_patch":
            out = tokens[:, 1 + self.backbone.num_register_tokens:].mean(dim=1)
        else:
            out = tokens.mean(dim=1)
        return out.float()


def config(arch: str) -> dict:
    if arch not in ARCHS:
        raise ExportError(f"unknown DINOv2 architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    return dict(ARCHS[arch])


_CHUNKED = re.compile(r"^blocks\.\d+\.(\d+\..*)$")


def load_checkpoint(path: str, arch: str, cfg: Optional[dict] = None) -> DinoV2:
    """An eval-mode float32 DinoV2 from a released (or fine-tuned) backbone state dict.

    Accepts block-chunked keys (blocks.<chunk>.<i>.*, from FSDP training) as well."""
    cfg = cfg or config(arch)
    sd = {}
    for key, value in read_checkpoint(path).items():
        m = _CHUNKED.match(key)
        sd["blocks." + m.group(1) if m else key] = value
    if cfg["num_register_tokens"] == 0:
        if "register_tokens" in sd:
            raise ExportError(f"checkpoint {path} has register tokens: use --arch {arch}_reg")
        sd["register_tokens"] = torch.zeros(1, 0, cfg["embed_dim"])
    model = DinoV2(cfg)
    load_strict(model, sd, f"checkpoint {path}")
    return model.eval()


def official_state_dict(model: DinoV2) -> dict:
    """The released checkpoint layout: a plain state dict (no register_tokens when there are none)."""
    sd = dict(model.state_dict())
    if model.num_register_tokens == 0:
        del sd["register_tokens"]
    return sd
