import json
import os
import random
import subprocess
import sys

import torch

import cnclip  # tools/export
import train
from captions import all_captions
from conftest import TRAIN_TINY
from data import training_set
from evaluate import Bundle
from shapes import CLASSES
from vocab import build_vocab


def small_run(seed, steps=3):
    """A few seeded steps of a shrunken model: the weights it ends with."""
    torch.manual_seed(seed)
    tokens = build_vocab(t for c, s in CLASSES for t in all_captions(c, s))
    cfg = train.tiny_config(len(tokens))
    cfg["vision"].update(width=32, layers=1, head_width=16)
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
    tokens = build_vocab(t for c, s in CLASSES for t in all_captions(c, s))
    vocab = {t: i for i, t in enumerate(tokens)}
    ids = train.caption_batch(torch.arange(0, 48, 6), vocab, random.Random(0))
    assert ids.shape[0] == 8
    assert (ids[:, 0] == vocab["[CLS]"]).all()
    assert (ids[:, -1] != 0).any()                       # the longest row fills the width
    assert ((ids == vocab["[SEP]"]).sum(1) == 1).all()   # every row keeps its [SEP]


def test_clip_loss_prefers_matching_classes():
    labels = torch.tensor([0, 1, 2, 0])
    emb = torch.eye(4)[[0, 1, 2, 0]] * 5
    scale = torch.tensor(2.0)
    good = train.clip_loss(emb, emb, labels, scale)
    bad = train.clip_loss(emb, emb[[1, 2, 0, 1]], labels, scale)
    assert good < bad


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
