"""Pieces shared by the Chinese-CLIP and DINOv2 implementations: attention, fp32 LayerNorm,
checkpoint reading and strict, explained state-dict loading.

Everything here is TorchScript-compatible and runs on torch 1.13 and 2.x."""
import math
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn


class ExportError(Exception):
    """A user-facing failure: bad checkpoint, wrong architecture, failed check."""


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int,
           bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Multi-head scaled dot-product attention on batch-first tensors.

    q [N, Lq, D], k and v [N, Lk, D]; bias (additive, broadcast to [N, heads, Lq, Lk]) masks keys.
    Written out (no F.scaled_dot_product_attention: torch 1.13 lacks it)."""
    n, lq, d = q.shape
    lk = k.shape[1]
    hd = d // heads
    q = q.reshape(n, lq, heads, hd).transpose(1, 2)
    k = k.reshape(n, lk, heads, hd).transpose(1, 2)
    v = v.reshape(n, lk, heads, hd).transpose(1, 2)
    scores = torch.matmul(q * (1.0 / math.sqrt(hd)), k.transpose(-1, -2))
    if bias is not None:
        scores = scores + bias
    out = torch.matmul(scores.softmax(dim=-1), v)
    return out.transpose(1, 2).reshape(n, lq, d)


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 whatever the weights' dtype, as Chinese-CLIP does for fp16."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(),
                         self.eps)
        return y.to(x.dtype)


def read_checkpoint(path: str) -> Dict[str, torch.Tensor]:
    """The state dict inside an official (or fine-tuned) checkpoint file, as float32 on CPU.

    Accepts a plain state dict or a training checkpoint {"state_dict": ...}; strips the
    DistributedDataParallel prefix "module.". Loaded with weights_only (no code runs)."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ExportError(f"checkpoint {path}: no such file")
    except Exception as e:  # pickle errors, truncated zip, not a torch file at all
        raise ExportError(f"checkpoint {path}: cannot be read as a PyTorch checkpoint ({e})")
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj:
        raise ExportError(f"checkpoint {path}: holds no state dict")
    sd = {}
    for key, value in obj.items():
        if not isinstance(value, torch.Tensor):
            raise ExportError(f"checkpoint {path}: entry {key!r} is not a tensor; "
                              "expected a state dict of tensors")
        if key.startswith("module."):
            key = key[len("module."):]
        sd[key] = value.float() if value.is_floating_point() else value
    return sd


def load_strict(model: nn.Module, sd: Dict[str, torch.Tensor], what: str) -> None:
    """load_state_dict, with every mismatch listed in one message that says what to check."""
    own = model.state_dict()
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    wrong = sorted(f"{k} {tuple(sd[k].shape)} (model wants {tuple(own[k].shape)})"
                   for k in set(own) & set(sd) if own[k].shape != sd[k].shape)
    if missing or unexpected or wrong:
        def show(keys):
            return ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        parts = []
        if wrong:
            parts.append(f"{len(wrong)} of another shape: {show(wrong)}")
        if missing:
            parts.append(f"{len(missing)} missing: {show(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected: {show(unexpected)}")
        raise ExportError(f"{what}: the checkpoint does not match the architecture ("
                          + "; ".join(parts) + "). Check --arch (and --text-arch).")
    model.load_state_dict(sd, strict=True)
