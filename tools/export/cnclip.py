"""Chinese-CLIP in plain PyTorch: image towers (ViT, ModifiedResNet) and the BERT text tower.

Written from the public description of Chinese-CLIP (OFA-Sys/Chinese-CLIP, cn_clip/clip): the
state-dict keys are those of the official checkpoints (`clip_cn_vit-b-16.pt`, ...) after their
"module." prefix is stripped, so they load without the cn_clip package. Layouts are batch-first;
the maths is the reference's (QuickGELU, pre-LN ViT, post-LN BERT with erf GELU, additive -10000
mask on padding, CLS token through `text_projection`).

Configs are plain dicts, so tiny models for tests and training are one dict away:
  vision ViT:    {"image_size", "patch_size", "width", "layers": int, "head_width"}
  vision ResNet: {"image_size", "width", "layers": [4 ints], "head_width"}
  text (BERT):   {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                  "intermediate_size", "max_position_embeddings", "type_vocab_size",
                  optional "hidden_act" ("gelu"), "hidden_dropout_prob" and
                  "attention_probs_dropout_prob" (0.1), "layer_norm_eps" (1e-12)}
"""
import math
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn

from common import ExportError, LayerNorm, attend, load_strict, read_checkpoint

PAD_ID = 0

# Named towers of the official releases (cn_clip/clip/model_configs/*.json).
ARCHS: Dict[str, dict] = {
    "ViT-B-16": {"embed_dim": 512, "vision": {"image_size": 224, "patch_size": 16, "width": 768,
                                               "layers": 12, "head_width": 64}},
    "ViT-L-14": {"embed_dim": 768, "vision": {"image_size": 224, "patch_size": 14, "width": 1024,
                                               "layers": 24, "head_width": 64}},
    "ViT-L-14-336": {"embed_dim": 768, "vision": {"image_size": 336, "patch_size": 14,
                                                   "width": 1024, "layers": 24, "head_width": 64}},
    "ViT-H-14": {"embed_dim": 1024, "vision": {"image_size": 224, "patch_size": 14, "width": 1280,
                                                "layers": 32, "head_width": 80}},
    "RN50": {"embed_dim": 1024, "vision": {"image_size": 224, "width": 64, "layers": [3, 4, 6, 3],
                                            "head_width": 64}},
    "RoBERTa-wwm-ext-base-chinese": {"text": {
        "vocab_size": 21128, "hidden_size": 768, "num_hidden_layers": 12,
        "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
        "type_vocab_size": 2}},
    "RoBERTa-wwm-ext-large-chinese": {"text": {
        "vocab_size": 21128, "hidden_size": 1024, "num_hidden_layers": 24,
        "num_attention_heads": 16, "intermediate_size": 4096, "max_position_embeddings": 512,
        "type_vocab_size": 2}},
    "RBT3-chinese": {"text": {
        "vocab_size": 21128, "hidden_size": 768, "num_hidden_layers": 3,
        "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
        "type_vocab_size": 2}},
}

# The text tower each released image tower was trained with.
DEFAULT_TEXT_ARCH = {
    "ViT-B-16": "RoBERTa-wwm-ext-base-chinese",
    "ViT-L-14": "RoBERTa-wwm-ext-base-chinese",
    "ViT-L-14-336": "RoBERTa-wwm-ext-base-chinese",
    "ViT-H-14": "RoBERTa-wwm-ext-large-chinese",
    "RN50": "RBT3-chinese",
}

IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073]
IMAGE_STD = [0.26862954, 0.26130258, 0.27577711]
CONTEXT_LENGTH = 52


# ----------------------------------------------------------------------------- ViT image tower

class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class PackedAttention(nn.Module):
    """Self-attention with nn.MultiheadAttention's parameter names (in_proj_*, out_proj)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        return self.out_proj(attend(q, k, v, self.heads))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.attn = PackedAttention(width, heads)
        self.ln_1 = LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, width * 4))
        self.mlp.add_module("gelu", QuickGELU())
        self.mlp.add_module("c_proj", nn.Linear(width * 4, width))
        self.ln_2 = LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads)
                                         for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, image_size: int, patch_size: int, width: int, layers: int,
                 head_width: int, output_dim: int):
        super().__init__()
        if width % head_width:
            raise ExportError(f"vision width {width} is not a multiple of head_width {head_width}")
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        scale = width ** -0.5
        grid = image_size // patch_size
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, width // head_width)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x).flatten(2).transpose(1, 2)  # [N, grid*grid, width]
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[:, 0, :]) @ self.proj


# -------------------------------------------------------------------------- ResNet image tower

class Bottleneck(nn.Module):
    """CLIP's anti-aliased bottleneck: strides become an average pool after conv2."""
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU()
        # The reference's downsample is Sequential("-1": AvgPool, "0": conv, "1": bn); the pool has
        # no parameters, so it lives apart and the keys stay downsample.0 / downsample.1.
        needs_down = stride > 1 or inplanes != out
        self.down_pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.downsample = (nn.Sequential(nn.Conv2d(inplanes, out, 1, bias=False),
                                         nn.BatchNorm2d(out)) if needs_down else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(self.avgpool(out)))
        return self.relu(out + self.downsample(self.down_pool(x)))


class AttentionPool2d(nn.Module):
    """Attention pooling: the mean token (plus positions) queries all tokens; only it is kept."""

    def __init__(self, spatial: int, width: int, heads: int, output_dim: int):
        super().__init__()
        self.heads = heads
        self.positional_embedding = nn.Parameter(torch.randn(spatial * spatial + 1, width)
                                                 / width ** 0.5)
        self.k_proj = nn.Linear(width, width)
        self.q_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.c_proj = nn.Linear(width, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(2).transpose(1, 2)  # [N, HW, C]
        x = torch.cat([x.mean(dim=1, keepdim=True), x], dim=1) + self.positional_embedding.to(x.dtype)
        out = attend(self.q_proj(x[:, :1]), self.k_proj(x), self.v_proj(x), self.heads)
        return self.c_proj(out[:, 0])


class ModifiedResNet(nn.Module):
    def __init__(self, image_size: int, width: int, layers, head_width: int, output_dim: int):
        super().__init__()
        if len(layers) != 4:
            raise ExportError(f"ResNet layers must be 4 block counts, got {layers}")
        self.conv1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.avgpool = nn.AvgPool2d(2)
        self.relu = nn.ReLU()
        inplanes = width
        stages = []
        for i, blocks in enumerate(layers):
            planes = width * 2 ** i
            stage = [Bottleneck(inplanes, planes, 1 if i == 0 else 2)]
            inplanes = planes * Bottleneck.expansion
            stage += [Bottleneck(inplanes, planes) for _ in range(1, blocks)]
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        feat = width * 32
        self.attnpool = AttentionPool2d(image_size // 32, feat, feat // head_width, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.avgpool(self.relu(self.bn3(self.conv3(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.attnpool(x)


# ------------------------------------------------------------------------------ BERT text tower

class BertEmbeddings(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        h = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], h, padding_idx=PAD_ID)
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], h)
        self.LayerNorm = LayerNorm(h, eps=cfg.get("layer_norm_eps", 1e-12))
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], dtype=torch.long, device=ids.device)
        # Token type is always 0 (single segment), so its row 0 is added to every token.
        x = (self.word_embeddings(ids) + self.position_embeddings(positions).unsqueeze(0)
             + self.token_type_embeddings.weight[0])
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        h = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        if h % self.heads:
            raise ExportError(f"text hidden_size {h} is not a multiple of "
                              f"num_attention_heads {self.heads}")
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)
        # Dropout on attention probabilities is omitted: identity at inference, and training
        # (issue #7's tiny model) does not need it.

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return attend(self.query(x), self.key(x), self.value(x), self.heads, bias)


class BertSelfOutput(nn.Module):
    def __init__(self, cfg: dict, inner: int):
        super().__init__()
        h = cfg["hidden_size"]
        self.dense = nn.Linear(inner, h)
        self.LayerNorm = LayerNorm(h, eps=cfg.get("layer_norm_eps", 1e-12))
        self.dropout = nn.Dropout(cfg.get("hidden_dropout_prob", 0.1))

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = BertSelfOutput(cfg, cfg["hidden_size"])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, bias), x)


class BertIntermediate(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        act = cfg.get("hidden_act", "gelu")
        if act != "gelu":
            raise ExportError(f"text hidden_act {act!r} is not supported (only 'gelu')")
        self.dense = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))  # erf GELU, as BERT's "gelu"


class BertLayer(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertSelfOutput(cfg, cfg["intermediate_size"])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, bias)
        return self.output(self.intermediate(x), x)


class BertEncoder(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(cfg) for _ in range(cfg["num_hidden_layers"])])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            x = layer(x, bias)
        return x


class BertModel(nn.Module):
    """BERT without pooler; forward(ids) -> last hidden states, padding (id 0) masked out."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)
        self.pad_id = PAD_ID

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embeddings(ids)
        keep = ids.ne(self.pad_id).to(x.dtype)
        bias = ((1.0 - keep) * -10000.0)[:, None, None, :]  # [N, 1, 1, L]
        return self.encoder(x, bias)


# ---------------------------------------------------------------------------------- the model

class ChineseCLIP(nn.Module):
    def __init__(self, embed_dim: int, vision_cfg: dict, text_cfg: dict):
        super().__init__()
        v = dict(vision_cfg)
        if isinstance(v["layers"], (list, tuple)):
            self.visual = ModifiedResNet(v["image_size"], v["width"], list(v["layers"]),
                                         v.get("head_width", 64), embed_dim)
        else:
            self.visual = VisionTransformer(v["image_size"], v["patch_size"], v["width"],
                                            v["layers"], v.get("head_width", 64), embed_dim)
        self.bert = BertModel(text_cfg)
        h = text_cfg["hidden_size"]
        self.text_projection = nn.Parameter(torch.randn(h, embed_dim) * h ** -0.5)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.embed_dim = embed_dim
        self.image_size = v["image_size"]

    def encode_image(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 3, S, S] normalized pixels -> [N, embed_dim] (not L2-normalized)."""
        return self.visual(x.to(self.text_projection.dtype))

    def encode_text(self, ids: torch.Tensor) -> torch.Tensor:
        """[N, L] int64 token ids (pad 0) -> [N, embed_dim] (not L2-normalized)."""
        return self.bert(ids)[:, 0, :] @ self.text_projection


def config(arch: str, text_arch: Optional[str] = None) -> dict:
    """{"embed_dim", "vision", "text"} for a named image tower and (default: its own) text tower."""
    if arch not in DEFAULT_TEXT_ARCH:
        raise ExportError(f"unknown Chinese-CLIP image tower {arch!r}; "
                          f"choose one of {', '.join(DEFAULT_TEXT_ARCH)}")
    text_arch = text_arch or DEFAULT_TEXT_ARCH[arch]
    if "text" not in ARCHS.get(text_arch, {}):
        names = [k for k, a in ARCHS.items() if "text" in a]
        raise ExportError(f"unknown Chinese-CLIP text tower {text_arch!r}; "
                          f"choose one of {', '.join(names)}")
    return {"embed_dim": ARCHS[arch]["embed_dim"], "vision": dict(ARCHS[arch]["vision"]),
            "text": dict(ARCHS[text_arch]["text"])}


def build(cfg: dict) -> ChineseCLIP:
    return ChineseCLIP(cfg["embed_dim"], cfg["vision"], cfg["text"])


# Keys official checkpoints may carry that inference does not use.
_IGNORED = ("bert.pooler.", "bert.embeddings.position_ids")


def load_checkpoint(path: str, arch: str, text_arch: Optional[str] = None,
                    cfg: Optional[dict] = None) -> ChineseCLIP:
    """An eval-mode float32 ChineseCLIP from an official or fine-tuned checkpoint file.

    cfg (as config() returns) overrides arch/text_arch, for custom sizes."""
    cfg = cfg or config(arch, text_arch)
    sd = {k: v for k, v in read_checkpoint(path).items() if not k.startswith(_IGNORED)}
    model = build(cfg)
    load_strict(model, sd, f"checkpoint {path}")
    return model.eval()


def official_state_dict(model: ChineseCLIP) -> dict:
    """The checkpoint layout cn_clip's training writes: {"state_dict": {"module.<key>": ...}}."""
    return {"epoch": 0, "step": 0, "name": "cbir-export",
            "state_dict": {"module." + k: v for k, v in model.state_dict().items()}}
