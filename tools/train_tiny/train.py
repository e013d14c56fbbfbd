#!/usr/bin/python3
"""Trains the tiny bilingual default model and exports it as a cbir bundle.

  /usr/bin/python3 tools/train_tiny/train.py --out models/tiny-bilingual --gallery examples/data

A Chinese-CLIP of the project's own (tools/export/cnclip.py's ChineseCLIP at a tiny config: a
small ResNet image tower at 64 px and a small BERT text tower with its own vocab.txt) learns,
with a CLIP loss, to match synthetic pictures of coloured shapes (shapes.py) to Chinese and
English captions (captions.py). It is saved in the official checkpoint layout and exported by
tools/export, the path real Chinese-CLIP checkpoints take. Everything is seeded: the same command
on the same software gives the same pictures, the same vocab and (at the same thread count) the
same weights.

The shipped models/tiny-bilingual is this command's output with `--threads 1` (Debian's torch
1.13 on this project's 2-core machine): 1,000 steps of 128 pictures, 618 CPU-seconds in the
trainer (rendering 14,400 training pictures, then training; the export adds seconds), about 11
minutes on one quiet core (37 minutes of wall time while other builds shared the machine). On
the held-out gallery (evaluate.py on examples/data): precision@5 1.00 in Chinese and 1.00 in
English (each of the 48 colour x shape queries at 1.0), and 0.98 of the pictures have their own
colour x shape as nearest neighbour. The same command on a 16-core machine with torch 2.11 and
`--threads 2` trained in 325 s and scored 1.00 / 1.00 / 0.99.
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORT_DIR = os.path.join(HERE, "..", "export")
sys.path.insert(0, EXPORT_DIR)

import cnclip  # noqa: E402  (tools/export)
from captions import (COLOUR_ONLY, FULL, KIND_WEIGHTS, SHAPE_ONLY, every_caption,  # noqa: E402
                      random_caption)
from data import normalise, training_set, write_gallery  # noqa: E402
from evaluate import evaluate  # noqa: E402
from shapes import CLASSES, SHAPES  # noqa: E402
from vocab import build_vocab, wordpiece, write_vocab  # noqa: E402

IMAGE_SIZE = 64
# exp(logit_scale) at the start. Chinese-CLIP starts at 1/0.07 and lets it grow over a long
# training; in 1,000 steps it barely moves, and the sharper 30 tells shapes apart much sooner.
INITIAL_LOGIT_SCALE = 30.0


def tiny_config(vocab_size):
    return {
        "embed_dim": 128,
        # Chinese-CLIP's ModifiedResNet (the RN50 tower) at width 16, one block a stage: on this
        # CPU it learns shapes in far fewer steps than a ViT of the same cost.
        "vision": {"image_size": IMAGE_SIZE, "width": 16, "layers": [1, 1, 1, 1], "head_width": 32},
        "text": {"vocab_size": vocab_size, "hidden_size": 128, "num_hidden_layers": 3,
                 "num_attention_heads": 4, "intermediate_size": 512,
                 "max_position_embeddings": cnclip.CONTEXT_LENGTH, "type_vocab_size": 2,
                 "hidden_dropout_prob": 0.0},
    }


def augment(x, gen):
    """Label-preserving flips and quarter turns, chosen per picture."""
    flip = torch.rand(x.shape[0], generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    turns = torch.randint(0, 4, (x.shape[0],), generator=gen)
    for k in (1, 2, 3):
        x = torch.where((turns == k)[:, None, None, None], torch.rot90(x, k, (2, 3)), x)
    return x


def caption_batch(labels, vocab, rng):
    """Token ids [B, L] of one random caption per picture (half Chinese, half English; of a
    random kind) and the kinds [B]. Rows are padded only to the batch's longest caption (the
    tower masks padding, so this equals padding to the context length)."""
    rows, kinds = [], []
    for k in labels.tolist():
        colour, shape = CLASSES[k]
        kind = rng.choices((FULL, SHAPE_ONLY, COLOUR_ONLY), KIND_WEIGHTS)[0]
        text = random_caption(rng, colour, shape, rng.choice(("zh", "en")), kind)
        rows.append(wordpiece.encode(text, vocab, cnclip.CONTEXT_LENGTH))
        kinds.append(kind)
    width = max(sum(1 for i in r if i != cnclip.PAD_ID) for r in rows)
    return torch.tensor([r[:width] for r in rows]), torch.tensor(kinds)


def clip_loss(img, txt, labels, kinds, logit_scale):
    """Symmetric CLIP loss where every caption true of a picture counts as its match: a batch
    holds several pictures of each class, and a shape-only (colour-only) caption is true of every
    picture of that shape (colour). Calling those negatives would fight the truth."""
    logits = logit_scale.exp() * F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).T
    colour, shape = labels // len(SHAPES), labels % len(SHAPES)
    same_colour = colour[:, None] == colour[None, :]
    same_shape = shape[:, None] == shape[None, :]
    kind = kinds[None, :]
    match = torch.where(kind == FULL, same_colour & same_shape,
                        torch.where(kind == SHAPE_ONLY, same_shape, same_colour)).float()
    return -0.5 * ((match / match.sum(1, keepdim=True) * logits.log_softmax(dim=1)).sum(1).mean()
                   + (match / match.sum(0, keepdim=True) * logits.log_softmax(dim=0)).sum(0).mean())


def train(model, pixels, labels, vocab, steps, batch, seed, log):
    gen = torch.Generator().manual_seed(seed)
    rng = random.Random(f"captions-{seed}")
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                             {"params": rest, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    mean, std = cnclip.IMAGE_MEAN, cnclip.IMAGE_STD
    model.train()
    start = time.time()
    for step in range(steps):
        idx = torch.randint(0, len(labels), (batch,), generator=gen)
        x = normalise(augment(pixels[idx], gen), mean, std)
        ids, kinds = caption_batch(labels[idx], vocab, rng)
        loss = clip_loss(model.encode_image(x), model.encode_text(ids), labels[idx], kinds,
                         model.logit_scale)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 25 == 0 or step == steps - 1:
            log(f"step {step + 1}/{steps}  loss {loss.item():.3f}  "
                f"scale {model.logit_scale.exp().item():.1f}  {time.time() - start:.0f}s")
    model.eval()


def export(checkpoint, cfg_path, vocab, out):
    """tools/export's own command line, exactly as a user exports an official checkpoint."""
    cmd = [sys.executable, os.path.join(EXPORT_DIR, "export.py"), "cnclip",
           "--checkpoint", checkpoint, "--config", cfg_path, "--vocab", vocab,
           "--name", "tiny-bilingual", "--out", out, "--force"]
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="bundle folder to write (e.g. models/tiny-bilingual)")
    ap.add_argument("--gallery", help="also (re)write the held-out gallery here (e.g. examples/data)")
    ap.add_argument("--gallery-per-class", type=int, default=8)
    ap.add_argument("--per-class", type=int, default=300, help="training pictures per class")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", help="keep the checkpoint, config and vocab here (default: a temp dir)")
    args = ap.parse_args()

    def log(msg):
        print(f"train_tiny: {msg}", flush=True)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    work = args.work or tempfile.mkdtemp(prefix="train_tiny-")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()

    tokens = build_vocab(every_caption(CLASSES))
    vocab_path = os.path.join(work, "vocab.txt")
    write_vocab(vocab_path, tokens)
    vocab = wordpiece.read_vocab(vocab_path)
    cfg = tiny_config(len(tokens))
    cfg_path = os.path.join(work, "config.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=1)
    log(f"vocab: {len(tokens)} tokens; {len(CLASSES)} classes")

    if args.gallery:
        write_gallery(args.gallery, args.gallery_per_class, args.seed)
        log(f"gallery: {args.gallery_per_class * len(CLASSES)} pictures in {args.gallery}")
    pixels, labels = training_set(args.per_class, IMAGE_SIZE, args.seed)
    log(f"training set: {len(labels)} pictures rendered ({time.time() - t0:.0f}s)")

    model = cnclip.build(cfg)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(INITIAL_LOGIT_SCALE))
    log(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    train(model, pixels, labels, vocab, args.steps, args.batch, args.seed, log)

    checkpoint = os.path.join(work, "tiny-bilingual.pt")
    torch.save(cnclip.official_state_dict(model), checkpoint)
    export(checkpoint, cfg_path, vocab_path, args.out)
    log(f"exported {args.out} ({time.time() - t0:.0f}s in all, {time.process_time():.0f} CPU-s)")
    if args.gallery:
        log("held-out gallery: " + json.dumps(evaluate(args.out, args.gallery), ensure_ascii=False))


if __name__ == "__main__":
    main()
