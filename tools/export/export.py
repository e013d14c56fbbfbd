#!/usr/bin/env python3
"""Exports an official (or fine-tuned) Chinese-CLIP or DINOv2 checkpoint to a cbir model bundle.

  export.py cnclip --arch ViT-B-16 --checkpoint clip_cn_vit-b-16.pt --vocab vocab.txt --out DIR
  export.py dinov2 --arch vitb14 --checkpoint dinov2_vitb14_pretrain.pth --pooling mean_all --out DIR

Options: --quantize int8 (dynamic int8 Linear layers, CPU) or --half (fp16, CUDA); --config FILE
(a JSON architecture instead of --arch, for custom sizes); --name; --force (replace DIR).

Each tower is compiled with TorchScript (dynamic batch, and dynamic length for text), saved,
loaded back and checked before the bundle is written: against the eager model on the same inputs
(cosine >= 0.9999) at batch 1, 3 and 8 and, for text, trimmed to the longest real length; and
each row against the same row in a batch of 8, padded to the context length (cosine >= 0.9999 in
fp32; >= 0.99 for int8 and fp16, whose results move slightly with the batch)."""
import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Callable, Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bundle  # noqa: E402
import cnclip  # noqa: E402
import dinov2  # noqa: E402
from common import ExportError  # noqa: E402

MIN_COSINE = 0.9999
BATCHES = (1, 3, 8)


# ------------------------------------------------------------------------------------- towers

class ClipImageTower(nn.Module):
    """forward(x float32 [N,3,S,S]) -> float32 [N,D], projection applied, not normalized."""

    def __init__(self, model: cnclip.ChineseCLIP):
        super().__init__()
        self.visual = model.visual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.visual(x.to(self.visual.conv1.weight.dtype)).float()


class ClipTextTower(nn.Module):
    """forward(ids int64 [N,L]) -> float32 [N,D]; padding is id 0, any L <= context length."""

    def __init__(self, model: cnclip.ChineseCLIP):
        super().__init__()
        self.bert = model.bert
        self.text_projection = model.text_projection

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return (self.bert(ids)[:, 0, :] @ self.text_projection).float()


def with_precision(tower: nn.Module, precision: str) -> nn.Module:
    """A copy of the eval-mode tower at the bundle's precision (the original stays fp32)."""
    if precision == "int8":
        try:  # deprecated in torch 2.x in favour of torchao; gone from some future torch
            from torch.ao.quantization import quantize_dynamic
        except ImportError:
            raise ExportError(f"--quantize int8 needs torch.ao.quantization.quantize_dynamic, "
                              f"which torch {torch.__version__} lacks; export int8 bundles with "
                              "a torch that has it (1.13 to 2.12 do)")
        return quantize_dynamic(tower, {nn.Linear}, dtype=torch.qint8)
    if precision == "fp16":
        import copy
        return copy.deepcopy(tower).half()
    return tower


# ------------------------------------------------------------------------------------- checks

def min_cosine(got: torch.Tensor, want: torch.Tensor) -> float:
    return F.cosine_similarity(got.float().cpu(), want.float().cpu(), dim=1).min().item()


def batch_tolerance(precision: str) -> float:
    """How closely one row must agree across batch compositions and paddings. Exact up to float
    rounding in fp32; int8 quantizes activations per tensor (scale from the whole batch) and fp16
    rounds differently per shape, so there a row moves slightly with its companions."""
    return MIN_COSINE if precision == "fp32" else 0.99


def expect_close(what: str, got: torch.Tensor, want: torch.Tensor, threshold: float) -> float:
    if got.dtype != torch.float32 or got.shape != want.shape:
        raise ExportError(f"{what}: output is {got.dtype} {tuple(got.shape)}, expected float32 "
                          f"{tuple(want.shape)}")
    if not torch.isfinite(got).all():
        raise ExportError(f"{what}: output has NaN or infinite values")
    c = min_cosine(got, want)
    if c < threshold:
        raise ExportError(f"{what}: cosine {c:.6f} < {threshold}")
    return c


class Checks:
    """Runs inputs through the compiled tower and the eager one; keeps the worst cosines."""

    def __init__(self, compiled: Callable, eager: Callable, precision: str, tower: str):
        self.compiled, self.eager, self.tower = compiled, eager, tower
        self.tolerance = batch_tolerance(precision)
        self.vs_eager, self.vs_batch = 1.0, 1.0

    def run(self, what: str, x: torch.Tensor, full: Optional[torch.Tensor] = None,
            rows: Optional[List[int]] = None) -> torch.Tensor:
        """compiled(x) must equal eager(x); and, given full (a result of a bigger batch holding
        these rows), agree with those rows of it."""
        got = self.compiled(x)
        c = expect_close(f"{self.tower} tower, {what}: compiled against eager", got,
                         self.eager(x), MIN_COSINE)
        self.vs_eager = min(self.vs_eager, c)
        if full is not None:
            part = full[rows] if rows is not None else full[:x.shape[0]]
            c = expect_close(f"{self.tower} tower, {what}: against the batch of "
                             f"{full.shape[0]}", got, part, self.tolerance)
            self.vs_batch = min(self.vs_batch, c)
        return got

    def results(self) -> Dict[str, float]:
        return {f"{self.tower}_min_cosine_vs_eager": self.vs_eager,
                f"{self.tower}_min_cosine_across_batches": self.vs_batch}


def image_inputs(size: int, mean: List[float], std: List[float]) -> torch.Tensor:
    """Eight normalized images of uniform random pixels (fixed seed)."""
    pixels = torch.rand(8, 3, size, size, generator=torch.Generator().manual_seed(0))
    return (pixels - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def text_inputs(context_length: int, vocab_size: int, cls_id: int, sep_id: int) -> torch.Tensor:
    """Eight id rows padded to context_length: [CLS] random tokens [SEP] 0..., lengths from 2 to
    full; row 3 fills the context (no padding)."""
    g = torch.Generator().manual_seed(0)
    lengths = [3, 10, 5, context_length, 7, 2, 12, 4]
    ids = torch.zeros(8, context_length, dtype=torch.long)
    for row, n in enumerate(min(n, context_length) for n in lengths):
        ids[row, :n] = torch.randint(1, vocab_size, (n,), generator=g)
        ids[row, 0], ids[row, n - 1] = cls_id, sep_id
    return ids


def trimmed(ids: torch.Tensor) -> torch.Tensor:
    return ids[:, :int(ids.ne(0).sum(dim=1).max())]


# ------------------------------------------------------------------------------- writing towers

def compile_tower(tower: nn.Module, path: str, precision: str) -> None:
    """Scripts the eval-mode tower and saves it (on CPU, whatever the precision)."""
    tower = with_precision(tower.eval(), precision)
    torch.jit.script(tower).save(path)


def check_image_tower(path: str, eager: nn.Module, precision: str, device: str, size: int,
                      mean: List[float], std: List[float]) -> Dict[str, float]:
    """The saved tower, loaded back, against the eager one at batch 1, 3 and 8."""
    x = image_inputs(size, mean, std).to(device)
    reference = with_precision(eager, precision).to(device)
    checks = Checks(torch.jit.load(path, map_location=device), reference, precision, "image")
    with torch.no_grad():
        full = checks.run("batch 8", x)
        for b in BATCHES[:-1]:
            checks.run(f"batch {b}", x[:b], full)
        results = checks.results()
        if precision != "fp32":
            results["image_min_cosine_vs_fp32"] = min_cosine(full, eager.float().to(device)(x))
    return results


def check_text_tower(path: str, eager: nn.Module, precision: str, device: str,
                     ids: torch.Tensor) -> Dict[str, float]:
    """As check_image_tower, plus rows trimmed to their longest real length against padded."""
    ids = ids.to(device)
    reference = with_precision(eager, precision).to(device)
    checks = Checks(torch.jit.load(path, map_location=device), reference, precision, "text")
    with torch.no_grad():
        full = checks.run("batch 8", ids)
        for b in BATCHES[:-1]:
            checks.run(f"batch {b}", ids[:b], full)
        for rows in ([0, 1, 2], [4, 5, 6, 7]):
            short = trimmed(ids[rows])
            checks.run(f"rows {rows} trimmed to length {short.shape[1]}", short, full, rows)
        results = checks.results()
        if precision != "fp32":
            results["text_min_cosine_vs_fp32"] = min_cosine(full, eager.float().to(device)(ids))
    return results


# --------------------------------------------------------------------------------- the bundles

def read_vocab(path: str, vocab_size: int) -> Dict[str, int]:
    try:
        with open(path, encoding="utf-8") as f:
            tokens = [line.rstrip("\n") for line in f]
    except OSError as e:
        raise ExportError(f"vocab {path}: cannot be read ({e.strerror})")
    except UnicodeDecodeError:
        raise ExportError(f"vocab {path}: not UTF-8 text")
    if len(tokens) != vocab_size:
        raise ExportError(f"vocab {path} has {len(tokens)} entries but the text tower has "
                          f"{vocab_size} token embeddings: use the vocab.txt the model was "
                          "trained with")
    index = {t: i for i, t in enumerate(tokens)}
    for special in ("[CLS]", "[SEP]", "[UNK]"):
        if special not in index:
            raise ExportError(f"vocab {path}: has no {special} entry")
    if tokens[0] != "[PAD]":
        raise ExportError(f"vocab {path}: entry 0 must be [PAD] (the text tower pads with id 0)")
    return index


class Staging:
    """A scratch folder beside OUT that becomes OUT only once everything is written and checked."""

    def __init__(self, out: str, force: bool):
        if os.path.exists(out) and not force and (not os.path.isdir(out) or os.listdir(out)):
            raise ExportError(f"--out {out} exists and is not empty; pass --force to replace it")
        parent = os.path.dirname(os.path.abspath(out))
        os.makedirs(parent, exist_ok=True)
        self.out = out
        self.dir = tempfile.mkdtemp(prefix=".export-", dir=parent)

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def commit(self) -> None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.dir, 0o777 & ~umask)  # mkdtemp made it private
        if os.path.isdir(self.out):
            shutil.rmtree(self.out)
        elif os.path.exists(self.out):
            os.remove(self.out)
        os.replace(self.dir, self.out)

    def abandon(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def precision_of(args) -> str:
    if args.quantize and args.half:
        raise ExportError("--quantize int8 and --half exclude each other (int8 is for CPU, "
                          "fp16 for CUDA)")
    if args.half and not torch.cuda.is_available():
        raise ExportError("--half needs a CUDA device to check the fp16 export; none is visible")
    return "int8" if args.quantize else "fp16" if args.half else "fp32"


def source(args, architecture: str) -> dict:
    return {"checkpoint": os.path.basename(args.checkpoint), "architecture": architecture,
            "exporter": bundle.EXPORTER, "torch": torch.__version__}


def load_config(path: Optional[str]) -> Optional[dict]:
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ExportError(f"--config {path}: cannot be read as JSON ({e})")


def export_cnclip(args) -> dict:
    precision = precision_of(args)
    cfg = load_config(args.config) or cnclip.config(args.arch, args.text_arch)
    model = cnclip.load_checkpoint(args.checkpoint, args.arch, cfg=cfg)
    size, ctx = cfg["vision"]["image_size"], cnclip.CONTEXT_LENGTH
    vocab_size = cfg["text"]["vocab_size"]
    if cfg["text"]["max_position_embeddings"] < ctx:
        raise ExportError(f"text max_position_embeddings {cfg['text']['max_position_embeddings']}"
                          f" is below the context length {ctx}")
    vocab = read_vocab(args.vocab, vocab_size)
    device = "cuda" if precision == "fp16" else "cpu"
    stage = Staging(args.out, args.force)
    try:
        image, text = ClipImageTower(model).eval(), ClipTextTower(model).eval()
        compile_tower(image, stage.path("image.pt"), precision)
        compile_tower(text, stage.path("text.pt"), precision)
        shutil.copyfile(args.vocab, stage.path("vocab.txt"))
        checks = check_image_tower(stage.path("image.pt"), image, precision, device, size,
                                   cnclip.IMAGE_MEAN, cnclip.IMAGE_STD)
        ids = text_inputs(ctx, vocab_size, vocab["[CLS]"], vocab["[SEP]"])
        checks.update(check_text_tower(stage.path("text.pt"), text, precision, device, ids))
        arch = args.arch if not args.config else "custom"
        meta = {
            "name": args.name or f"chinese-clip-{arch.lower()}",
            "family": "chinese-clip",
            "embed_dim": cfg["embed_dim"],
            "logit_scale": float(model.logit_scale.detach().exp()),
            "precision": precision,
            "image": {"file": "image.pt", "preprocess": {
                "resize": "squash", "size": size, "crop": size, "interpolation": "bicubic",
                "order": "resize_then_rgb",  # cn_clip's transform: Resize, then convert('RGB')
                "mean": cnclip.IMAGE_MEAN, "std": cnclip.IMAGE_STD}},
            "text": {"file": "text.pt", "tokenizer": "bert_wordpiece", "vocab": "vocab.txt",
                     "context_length": ctx, "lower_case": True},
            "source": dict(source(args, arch), text_architecture=(
                args.text_arch or cnclip.DEFAULT_TEXT_ARCH.get(args.arch, "custom")),
                checks=checks),
        }
        meta = bundle.write_meta(stage.dir, meta)
        stage.commit()
    except BaseException:
        stage.abandon()
        raise
    return meta


def export_dinov2(args) -> dict:
    precision = precision_of(args)
    cfg = load_config(args.config) or dinov2.config(args.arch)
    backbone = dinov2.load_checkpoint(args.checkpoint, args.arch, cfg=cfg)
    device = "cuda" if precision == "fp16" else "cpu"
    preprocess = {"resize": "shorter_side_then_center_crop", "size": 256, "crop": 224,
                  "interpolation": "bicubic", "mean": dinov2.IMAGE_MEAN, "std": dinov2.IMAGE_STD}
    stage = Staging(args.out, args.force)
    try:
        image = dinov2.PooledDinoV2(backbone, args.pooling).eval()
        compile_tower(image, stage.path("image.pt"), precision)
        checks = check_image_tower(stage.path("image.pt"), image, precision, device,
                                   preprocess["crop"], preprocess["mean"], preprocess["std"])
        arch = args.arch if not args.config else "custom"
        meta = {
            "name": args.name or f"dinov2-{arch.lower()}-{args.pooling}",
            "family": "dinov2",
            "embed_dim": cfg["embed_dim"],
            "precision": precision,
            "image": {"file": "image.pt", "pooling": args.pooling, "preprocess": preprocess},
            "source": dict(source(args, arch), checks=checks),
        }
        meta = bundle.write_meta(stage.dir, meta)
        stage.commit()
    except BaseException:
        stage.abandon()
        raise
    return meta


# ------------------------------------------------------------------------------------------ CLI

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="export.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="family", required=True)

    def common(s, arch_help):
        s.add_argument("--arch", help=arch_help)
        s.add_argument("--config", help="JSON architecture (as the ARCHS entries) instead of --arch")
        s.add_argument("--checkpoint", required=True, help="official or fine-tuned checkpoint")
        s.add_argument("--out", required=True, help="bundle folder to create")
        s.add_argument("--name", help="bundle name (default: from the architecture)")
        s.add_argument("--quantize", choices=["int8"], help="dynamic int8 Linear layers (CPU)")
        s.add_argument("--half", action="store_true", help="fp16 weights (CUDA)")
        s.add_argument("--force", action="store_true", help="replace --out if it exists")

    c = sub.add_parser("cnclip", help="Chinese-CLIP (image and text towers)")
    common(c, "image tower: " + ", ".join(cnclip.DEFAULT_TEXT_ARCH))
    c.add_argument("--text-arch", help="text tower (default: the one the image tower shipped with)")
    c.add_argument("--vocab", required=True, help="the model's vocab.txt")
    d = sub.add_parser("dinov2", help="DINOv2 (image tower)")
    common(d, ", ".join(dinov2.ARCHS))
    d.add_argument("--pooling", required=True, choices=dinov2.POOLINGS)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    if not args.arch and not args.config:
        print("export.py: give --arch (or --config)", file=sys.stderr)
        return 2
    try:
        meta = (export_cnclip if args.family == "cnclip" else export_dinov2)(args)
    except ExportError as e:
        print(f"export.py: {e}", file=sys.stderr)
        return 1
    checks = ", ".join(f"{k} {v:.6f}" for k, v in meta["source"]["checks"].items())
    print(f"wrote {args.out}: {meta['name']}, {meta['precision']}, dim {meta['embed_dim']}, "
          f"{meta['fingerprint'][:19]}...; checks: {checks}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
