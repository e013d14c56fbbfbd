import json
import os
import random
import subprocess
import sys

import torch

import cnclip  # tools/export
import train
from captions import COLOUR_ONLY, FULL, SHAPE_ONLY, every_caption
from conftest import TRAIN_TINY
from data import training_set
from evaluate import Bundle
from shapes import CLASSES, SHAPES
from vocab import build_vocab


def small_run(seed, steps=3):
    """A few seeded steps of a shrunken model: the weights it ends with."""
    torch.manual_seed(seed)
    tokens = build_vocab(every_caption(CLASSES))
    cfg = train.tiny_config(len(tokens))
    cfg["vision"].update(width=8, head_width=16)
    cfg["text"].update(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=64)
    model = cnclip.build(cfg)
    pixels, labels = training_set(1, train.IMAGE_SIZE, seed)
    lines = []
    train.train(model, pixels, labels, {t: i for i, t in enumerate(tokens)}, steps, 16, seed,
                lines.append)
    return model.state_dict(), lines


def test_training_is_reproducible():
    a, log_a = small_run(seed=1)
    b, log_b = small_run(seed=1)
    assert all(torch.equal(a[k], b[k]) for k in a)
    c, _ = small_run(seed=2)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    assert len(log_a) == 2 and log_a[0].startswith("step 1/3  loss ")


def test_caption_batches_are_trimmed_to_the_longest_caption():
    tokens = build_vocab(every_caption(CLASSES))
    vocab = {t: i for i, t in enumerate(tokens)}
    ids, kinds = train.caption_batch(torch.arange(0, 48).repeat(4), vocab, random.Random(0))
    assert ids.shape[0] == 192 and kinds.shape == (192,)
    assert (ids[:, 0] == vocab["[CLS]"]).all()
    assert (ids[:, -1] != 0).any()                       # the longest row fills the width
    assert ((ids == vocab["[SEP]"]).sum(1) == 1).all()   # every row keeps its [SEP]
    assert set(kinds.tolist()) == {FULL, SHAPE_ONLY, COLOUR_ONLY}


def test_clip_loss_counts_every_true_caption_as_a_match():
    n = len(SHAPES)
    red_circle, red_square, blue_circle = 0, 1, n
    labels = torch.tensor([red_circle, red_square, blue_circle])
    scale = torch.tensor(3.0)
    img = torch.eye(3)
    # Captions "red circle", "red square", "circle" (shape only: true of both circles).
    kinds = torch.tensor([FULL, FULL, SHAPE_ONLY])
    right = torch.stack([img[0], img[1], img[0] + img[2]])
    wrong = torch.stack([img[1], img[0], img[0] + img[1]])
    assert train.clip_loss(img, right, labels, kinds, scale) < train.clip_loss(img, wrong, labels, kinds, scale)
    # The same captions read as full ones would call the blue circle's match wrong.
    full = torch.tensor([FULL, FULL, FULL])
    assert train.clip_loss(img, img, labels, full, scale) < train.clip_loss(img, right, labels, full, scale)


def test_command_line_trains_and_exports_a_bundle(tmp_path):
    out, work = tmp_path / "bundle", tmp_path / "work"
    subprocess.run([sys.executable, os.path.join(TRAIN_TINY, "train.py"), "--out", str(out),
                    "--work", str(work), "--steps", "2", "--per-class", "1", "--batch", "16"],
                   check=True)
    with open(out / "bundle.json", encoding="utf-8") as f:
        meta = json.load(f)
    assert meta["name"] == "tiny-bilingual" and meta["embed_dim"] == 128
    assert meta["image"]["preprocess"]["size"] == train.IMAGE_SIZE
    b = Bundle(str(out))
    assert b.embed_texts(["红色的圆形", "a red circle"]).shape == (2, 128)
    with open(out / "vocab.txt", encoding="utf-8") as f:
        assert f.read() == (work / "vocab.txt").read_text(encoding="utf-8")
