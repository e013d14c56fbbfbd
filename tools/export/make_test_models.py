#!/usr/bin/env python3
"""Tiny test models: every family at a tiny size with seeded random weights, saved in the
official checkpoint layouts, exported to bundles through export.py, with reference embeddings.

  make_test_models.py OUTDIR [--golden DIR] [--full-size]

OUTDIR gets checkpoints/ (the official-layout files and their JSON configs), one bundle folder per
model (each with a reference.json beside bundle.json), and index.json listing them. Golden inputs
($CBIR_GOLDEN_DIR, else DIR, else ../shared/golden) are used when present: the Chinese-CLIP
vocabulary, the preprocessed pixels and the tokenized texts; otherwise a tiny vocabulary, generated pixels
(OUTDIR/inputs/) and a few texts tokenized by bench/tokenizer/reference_tokenizer.py stand in.

reference.json: the eager Python model's L2-normalized embeddings of those inputs, pixels
normalized with the bundle's mean/std (x / 255 - mean) / std:
  {"bundle", "fingerprint", "precision", "normalized": true, "min_cosine" (what agreement to
   expect from another implementation that batches and trims its own way: 0.9999, int8 0.99),
   "images": [{"name", "rgb": absolute path of uint8 HWC RGB pixels, "height", "width",
               "embedding": [...]}],
   "texts": [{"text", "ids": [... padded to 52], "embedding": [...]}],             (CLIP only)
   "classify": {"image": 0, "texts": [0, 1, 2, 3], "probabilities": [...]}}          (CLIP only)
"""
import argparse
import json
import math
import os
import sys
from typing import List, Optional

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cnclip  # noqa: E402
import dinov2  # noqa: E402
import export  # noqa: E402
from common import ExportError  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench",
                                "tokenizer"))
import reference_tokenizer as wordpiece  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TINY_TEXT = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
             "intermediate_size": 128, "max_position_embeddings": 64, "type_vocab_size": 2}
CLIP_MODELS = {
    # ViT image tower + BERT text tower (the ViT-B/L/H family in small).
    "cnclip-vit": {"embed_dim": 32, "vision": {"image_size": 224, "patch_size": 32, "width": 64,
                                                "layers": 2, "head_width": 32},
                   "text": TINY_TEXT},
    # ModifiedResNet image tower + a 3-layer text tower (RN50 + RBT3 in small).
    "cnclip-rn": {"embed_dim": 32, "vision": {"image_size": 224, "width": 8, "layers": [1, 1, 1, 1],
                                               "head_width": 16},
                  "text": dict(TINY_TEXT, num_hidden_layers=3, hidden_size=48,
                               num_attention_heads=3, intermediate_size=96)},
}
TINY_DINO = {"embed_dim": 48, "depth": 2, "num_heads": 3, "patch_size": 14, "img_size": 56,
             "mlp_ratio": 4.0}
DINO_MODELS = {
    # Plain DINOv2 (positions resampled with the 0.1 offset) and the registers variant (exact size,
    # antialiased), the latter with ViT-g's SwiGLU feed-forward.
    "dinov2": dict(TINY_DINO, ffn="mlp", num_register_tokens=0, interpolate_antialias=False,
                   interpolate_offset=0.1),
    "dinov2-reg": dict(TINY_DINO, ffn="swiglu", num_register_tokens=4,
                       interpolate_antialias=True, interpolate_offset=0.0),
}
TINY_VOCAB = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz")
              + list("0123456789") + list("杰尼龟妙蛙种子小火龙皮卡丘红色的跑车猫狗")
              + ["##" + c for c in "abcdefghij"] + ["the", "red", "car", "cat", "dog"])
# Without the goldens: texts of every length class the golden ones have (1 token to past the
# context), English, Chinese, mixed, upper case, word pieces, punctuation and unknown characters.
FALLBACK_TEXTS = ["杰尼龟", "the red car", "a Cat and a DOG: bad cab", "红色的跑车 red car!",
                  "x" * 5 + " " + " ".join("the red car 猫狗" for _ in range(15)),
                  "é", "unknown ☃ 象 zebra", "皮卡丘 小火龙"]


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Every weight and buffer random (seeded), so a key loaded into the wrong place shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            noise = torch.randn(t.shape, generator=g)
            if name.endswith("running_var"):
                t.copy_(0.5 + noise.abs())
            elif t.dim() == 1 and name.endswith(("weight", "gamma")):
                t.copy_(1.0 + 0.1 * noise)  # norm and layer-scale gains
            else:
                t.copy_(noise * (t.shape[-1] ** -0.5 if t.dim() > 1 else 0.1))


def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


# ------------------------------------------------------------------------------------- inputs

class Inputs:
    """Pixels per transform and token ids: golden when present, generated otherwise."""

    def __init__(self, out: str, golden: Optional[str]):
        self.golden = golden if golden and os.path.isfile(os.path.join(golden, "vocab.txt")) \
            else None
        if self.golden:
            self.vocab = os.path.join(self.golden, "vocab.txt")
            with open(os.path.join(self.golden, "preprocess.json"), encoding="utf-8") as f:
                self.pixels = json.load(f)
            # Chinese-CLIP's own order (resize, then convert to RGB) for the images it changes:
            # Chinese-CLIP bundles say "order": "resize_then_rgb", so their references use these.
            order = os.path.join(self.golden, "preprocess_cnclip_order.json")
            if os.path.isfile(order):
                with open(order, encoding="utf-8") as f:
                    self.pixels += json.load(f)
            for p in self.pixels:
                p["name"] = os.path.basename(p["image"])
                p["rgb"] = os.path.join(self.golden, p["rgb"])
                p["height"], p["width"] = int(p["height"]), int(p["width"])
            with open(os.path.join(self.golden, "tokenizer.jsonl"), encoding="utf-8") as f:
                self.texts = [json.loads(line) for line in f if line.strip()]
            return
        folder = os.path.join(out, "inputs")
        os.makedirs(folder, exist_ok=True)
        self.vocab = os.path.join(folder, "vocab.txt")
        with open(self.vocab, "w", encoding="utf-8") as f:
            f.write("\n".join(TINY_VOCAB) + "\n")
        rng = np.random.default_rng(0)
        self.pixels = []
        for i in range(4):
            rgb = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
            for transform in ("clip224", "dino224"):
                path = os.path.join(folder, f"generated_{i}.{transform}.rgb")
                rgb.tofile(path)
                self.pixels.append({"name": f"generated_{i}", "transform": transform, "rgb": path,
                                    "height": 224, "width": 224})
        # Real texts, tokenized by the project's Python port of Chinese-CLIP's tokenizer: the C++
        # side tokenizes the same strings, so its ids (and embeddings) must agree with these.
        vocab = wordpiece.read_vocab(self.vocab)
        self.texts = [{"text": t, "ids": wordpiece.encode(t, vocab, cnclip.CONTEXT_LENGTH)}
                      for t in FALLBACK_TEXTS]

    def images(self, transform: str, mean: List[float], std: List[float], order: str = ""):
        """(entries, normalized float32 [N,3,224,224]); with order, the pixels of that
        transform variant ("clip224_cnclip_order") where the goldens have them."""
        entries = [p for p in self.pixels if p["transform"] == transform]
        variant = {p["name"]: p for p in self.pixels if order and p["transform"] == order}
        entries = [variant.get(p["name"], p) for p in entries]
        arrays = [np.fromfile(p["rgb"], dtype=np.uint8).reshape(p["height"], p["width"], 3)
                  for p in entries]
        x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 255.0
        return entries, (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


# ------------------------------------------------------------------------------------- models

def embed(tower: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.nn.functional.normalize(tower(x).float(), dim=1)


def rows(t: torch.Tensor) -> List[List[float]]:
    return [[float(v) for v in row] for row in t.cpu()]


def reference(folder: str, meta: dict, images, texts=None, logit_scale=None) -> dict:
    entries, image_emb = images
    ref = {"bundle": os.path.basename(folder), "fingerprint": meta["fingerprint"],
           "precision": meta["precision"], "normalized": True,
           "min_cosine": export.batch_tolerance(meta["precision"]),
           "images": [{"name": e["name"], "rgb": os.path.abspath(e["rgb"]), "height": e["height"],
                       "width": e["width"], "embedding": v}
                      for e, v in zip(entries, rows(image_emb))]}
    if texts is not None:
        items, text_emb = texts
        ref["texts"] = [{"text": t["text"], "ids": t["ids"], "embedding": v}
                        for t, v in zip(items, rows(text_emb))]
        probs = (logit_scale * image_emb[0] @ text_emb[:4].T).softmax(dim=0)
        ref["classify"] = {"image": 0, "texts": [0, 1, 2, 3], "probabilities": probs.tolist()}
    write_json(os.path.join(folder, "reference.json"), ref)
    return ref


def make_clip(out: str, key: str, cfg: dict, inputs: Inputs, seed: int, precision: str) -> dict:
    ckpt_dir = os.path.join(out, "checkpoints")
    ckpt, cfg_path = os.path.join(ckpt_dir, f"clip_cn_{key}.pt"), os.path.join(ckpt_dir, f"{key}.json")
    with open(inputs.vocab, encoding="utf-8") as f:
        cfg = dict(cfg, text=dict(cfg["text"], vocab_size=sum(1 for _ in f)))
    model = cnclip.build(cfg)
    randomize(model, seed)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(100.0))
    torch.save(cnclip.official_state_dict(model), ckpt)
    write_json(cfg_path, cfg)
    name = key if precision == "fp32" else f"{key}-{precision}"
    folder = os.path.join(out, name)
    argv = ["cnclip", "--config", cfg_path, "--checkpoint", ckpt, "--vocab", inputs.vocab,
            "--out", folder, "--name", f"test-{name}", "--force"]
    if precision == "int8":
        argv += ["--quantize", "int8"]
    elif precision == "fp16":
        argv += ["--half"]
    if export.main(argv) != 0:
        raise ExportError(f"exporting {name} failed")
    meta = json.load(open(os.path.join(folder, "bundle.json"), encoding="utf-8"))
    # The eager model as loaded from the official-layout checkpoint, at the bundle's precision.
    model = cnclip.load_checkpoint(ckpt, "", cfg=cfg)
    device = "cuda" if precision == "fp16" else "cpu"  # fp16 runs on CUDA only
    image = export.with_precision(export.ClipImageTower(model).eval(), precision).to(device)
    text = export.with_precision(export.ClipTextTower(model).eval(), precision).to(device)
    entries, x = inputs.images("clip224", cnclip.IMAGE_MEAN, cnclip.IMAGE_STD,
                               order="clip224_cnclip_order")  # the bundles' "resize_then_rgb"
    x = x.to(device)
    ids = torch.tensor([t["ids"] for t in inputs.texts], dtype=torch.long, device=device)
    reference(folder, meta, (entries, embed(image, x)), (inputs.texts, embed(text, ids)),
              meta["logit_scale"])
    return {"dir": name, "family": "chinese-clip", "precision": precision,
            "checkpoint": os.path.relpath(ckpt, out)}


def make_dino(out: str, key: str, cfg: dict, inputs: Inputs, seed: int,
              poolings=dinov2.POOLINGS) -> List[dict]:
    ckpt_dir = os.path.join(out, "checkpoints")
    ckpt = os.path.join(ckpt_dir, f"{key}_pretrain.pth")
    cfg_path = os.path.join(ckpt_dir, f"{key}.json")
    model = dinov2.DinoV2(cfg)
    randomize(model, seed)
    torch.save(dinov2.official_state_dict(model), ckpt)
    write_json(cfg_path, cfg)
    backbone = dinov2.load_checkpoint(ckpt, "", cfg=cfg)
    entries, x = inputs.images("dino224", dinov2.IMAGE_MEAN, dinov2.IMAGE_STD)
    made = []
    for pooling in poolings:
        name = f"{key}-{pooling}"
        folder = os.path.join(out, name)
        if export.main(["dinov2", "--config", cfg_path, "--checkpoint", ckpt, "--pooling", pooling,
                        "--out", folder, "--name", f"test-{name}", "--force"]) != 0:
            raise ExportError(f"exporting {name} failed")
        meta = json.load(open(os.path.join(folder, "bundle.json"), encoding="utf-8"))
        reference(folder, meta, (entries, embed(dinov2.PooledDinoV2(backbone, pooling).eval(), x)))
        made.append({"dir": name, "family": "dinov2", "precision": "fp32", "pooling": pooling,
                     "checkpoint": os.path.relpath(ckpt, out)})
    return made


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="make_test_models.py", description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--full-size", action="store_true",
                   help="also ViT-B-16 + RoBERTa-base at full size, random weights, fp32 and int8 "
                        "(full-vit-b-16*), and DINOv2 ViT-S/14 and ViT-B/14 with cls pooling "
                        "(full-dinov2-vit?14-cls); for benchmarks, not CI: ~2 GB and minutes")
    p.add_argument("--golden", default=os.path.join(REPO, "..", "shared", "golden"),
                   help="golden data folder (the CBIR_GOLDEN_DIR environment variable wins, "
                        "as for the C++ tests)")
    args = p.parse_args(argv)
    args.golden = os.environ.get("CBIR_GOLDEN_DIR") or args.golden
    os.makedirs(os.path.join(args.out, "checkpoints"), exist_ok=True)
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    try:
        inputs = Inputs(args.out, args.golden)
        print("inputs:", f"golden data in {inputs.golden}" if inputs.golden
              else f"no golden data at {args.golden}: generated pixels and a tiny vocabulary")
        made = []
        for seed, (key, cfg) in enumerate(CLIP_MODELS.items()):
            made.append(make_clip(args.out, key, cfg, inputs, seed, "fp32"))
        made.append(make_clip(args.out, "cnclip-vit", CLIP_MODELS["cnclip-vit"], inputs, 0, "int8"))
        if torch.cuda.is_available():  # an --half bundle, for the C++ tests' CUDA runs
            made.append(make_clip(args.out, "cnclip-vit", CLIP_MODELS["cnclip-vit"], inputs, 0,
                                  "fp16"))
        if args.full_size:
            for precision in ("fp32", "int8"):
                made.append(make_clip(args.out, "full-vit-b-16", cnclip.config("ViT-B-16"), inputs,
                                      100, precision))
        for seed, (key, cfg) in enumerate(DINO_MODELS.items(), start=10):
            made += make_dino(args.out, key, cfg, inputs, seed)
        if args.full_size:
            for seed, arch in enumerate(("vits14", "vitb14"), start=110):
                made += make_dino(args.out, f"full-dinov2-{arch}", dinov2.config(arch), inputs, seed,
                                  poolings=("cls",))
    except ExportError as e:
        print(f"make_test_models.py: {e}", file=sys.stderr)
        return 1
    write_json(os.path.join(args.out, "index.json"),
               {"golden": bool(inputs.golden), "bundles": made})
    return 0


if __name__ == "__main__":
    sys.exit(main())
