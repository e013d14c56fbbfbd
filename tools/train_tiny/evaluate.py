#!/usr/bin/python3
"""Retrieval quality of an exported bundle on the held-out gallery, through the bundle's own
TorchScript files, vocab and preprocessing recipe (what the C++ library runs).

Usage: evaluate.py BUNDLE_DIR GALLERY_DIR     (prints the figures as JSON)
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
from PIL import Image

from data import normalise, read_gallery, squash_pixels
from vocab import wordpiece


class Bundle:
    def __init__(self, folder):
        with open(os.path.join(folder, "bundle.json"), encoding="utf-8") as f:
            self.meta = json.load(f)
        img, txt = self.meta["image"], self.meta["text"]
        if img["preprocess"]["resize"] != "squash":
            raise ValueError(f"{folder}: evaluate.py handles only the 'squash' recipe")
        self.pre = img["preprocess"]
        self.image = torch.jit.load(os.path.join(folder, img["file"]), map_location="cpu").eval()
        self.text = torch.jit.load(os.path.join(folder, txt["file"]), map_location="cpu").eval()
        if txt["tokenizer"] != "bert_wordpiece" or not txt["lower_case"]:
            raise ValueError(f"{folder}: evaluate.py handles only lower-casing bert_wordpiece")
        self.vocab = wordpiece.read_vocab(os.path.join(folder, txt["vocab"]))
        self.context_length = txt["context_length"]

    @torch.no_grad()
    def embed_images(self, paths, batch=64):
        out = []
        for i in range(0, len(paths), batch):
            px = torch.stack([squash_pixels(Image.open(p), self.pre["size"]) for p in paths[i:i + batch]])
            out.append(self.image(normalise(px, self.pre["mean"], self.pre["std"])))
        return F.normalize(torch.cat(out), dim=-1)

    @torch.no_grad()
    def embed_texts(self, texts):
        ids = torch.tensor([wordpiece.encode(t, self.vocab, self.context_length) for t in texts])
        return F.normalize(self.text(ids), dim=-1)


def evaluate(bundle_dir, gallery_dir, k=5):
    """Per language: mean (and worst) precision@k of each class's canonical query; for images:
    how often the nearest other gallery picture has the query picture's class."""
    bundle = Bundle(bundle_dir)
    files, queries = read_gallery(gallery_dir)
    labels = [label for _, label in files]
    gallery = bundle.embed_images([p for p, _ in files])
    result = {"gallery_images": len(files), "classes": len(queries)}
    for lang, col in (("zh", 1), ("en", 2)):
        q = bundle.embed_texts([row[col] for row in queries])
        top = (q @ gallery.T).topk(k, dim=1).indices
        prec = [sum(labels[j] == row[0] for j in top[i].tolist()) / k for i, row in enumerate(queries)]
        worst = min(range(len(prec)), key=prec.__getitem__)
        result[f"{lang}_precision_at_{k}"] = sum(prec) / len(prec)
        result[f"{lang}_worst"] = {"query": queries[worst][col], "precision": prec[worst]}
    sims = gallery @ gallery.T
    sims.fill_diagonal_(-2.0)  # the picture itself would trivially come first
    nearest = sims.argmax(dim=1).tolist()
    result["image_nearest_same_class"] = sum(labels[j] == labels[i] for i, j in enumerate(nearest)) / len(files)
    return result


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip())
    torch.set_num_threads(2)
    print(json.dumps(evaluate(sys.argv[1], sys.argv[2]), ensure_ascii=False, indent=1))
