"""Full-size Chinese-CLIP ViT-B-16 + RoBERTa-base (random weights) on one CUDA device: cbir (C API,
bench/model/bench_model.c) in fp32, fp16 and bf16 against the bundle's TorchScript towers and the
eager model run from Python on the same device, in the same run. Called by tools/gpu/check.sh.

    python3 tools/gpu/bench_gpu.py OUT_DIR BENCH_MODEL_EXE [--golden DIR] [--batch 32] [--seconds 3]

Images: the golden images as Pillow preprocessed them (tiled to --batch), normalised; each call
takes the batch from host memory and brings the embeddings back to host memory on both sides
(cbir_model_embed_image_tensors; Python: tower(x.cuda()).cpu()), so both pay the same copies.
Text: one query per call; cbir's figure is the whole query (tokenize, encode trimmed, normalise),
Python's the text tower alone on ids trimmed to the text's length."""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "export"))
import cnclip  # noqa: E402
import export  # noqa: E402
import make_test_models  # noqa: E402

KEY = "full-vit-b-16"


def images_per_s(tower, x, seconds):
    tower(x.cuda()).cpu()
    done, t0 = 0, time.perf_counter()
    while True:
        tower(x.cuda()).cpu()
        done += x.shape[0]
        if time.perf_counter() - t0 >= seconds:
            return done / (time.perf_counter() - t0)


def latency_p50_ms(tower, rows, seconds):
    tower(rows[0].cuda()).cpu()
    lat, t0, i = [], time.perf_counter(), 0
    while not lat or time.perf_counter() - t0 < seconds:
        start = time.perf_counter()
        tower(rows[i % len(rows)].cuda()).cpu()
        lat.append((time.perf_counter() - start) * 1e3)
        i += 1
    return sorted(lat)[len(lat) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("exe")
    p.add_argument("--golden", default=os.path.join(ROOT, "..", "shared", "golden"))
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seconds", type=float, default=3.0)
    args = p.parse_args()
    os.makedirs(os.path.join(args.out, "checkpoints"), exist_ok=True)
    inputs = make_test_models.Inputs(args.out, args.golden)
    t0 = time.perf_counter()
    made = {prec: make_test_models.make_clip(args.out, KEY, cnclip.config("ViT-B-16"), inputs, 100,
                                             prec)["dir"] for prec in ("fp32", "fp16")}
    print(f"exported fp32 and --half bundles in {time.perf_counter() - t0:.0f} s", flush=True)
    bundles = {prec: os.path.join(args.out, d) for prec, d in made.items()}

    ref = json.load(open(os.path.join(bundles["fp32"], "reference.json"), encoding="utf-8"))
    _, x = inputs.images("clip224", cnclip.IMAGE_MEAN, cnclip.IMAGE_STD)
    x = x.repeat((args.batch + len(x) - 1) // len(x), 1, 1, 1)[:args.batch].contiguous()
    texts = [t["text"] for t in ref["texts"]]
    ids = torch.tensor([t["ids"] for t in ref["texts"]], dtype=torch.long)
    trimmed = [ids[i:i + 1, :int((ids[i] != 0).sum())] for i in range(len(texts))]
    pixels, queries = os.path.join(args.out, "pixels.f32"), os.path.join(args.out, "queries.txt")
    x.numpy().astype(np.float32).tofile(pixels)
    with open(queries, "w", encoding="utf-8") as f:
        f.write("\n".join(t.replace("\n", " ") for t in texts) + "\n")

    rows = []
    for name, bundle, precision in (("fp32", "fp32", "fp32"), ("fp16 (fp32 bundle)", "fp32", "fp16"),
                                    ("bf16 (fp32 bundle)", "fp32", "bf16"),
                                    ("fp16 (--half bundle)", "fp16", "fp16")):
        out = subprocess.run([args.exe, bundles[bundle], "0", pixels, str(args.batch),
                              str(args.seconds), queries, "cuda:0", precision],
                             check=True, capture_output=True, text=True).stdout
        c = json.loads(out)
        rows.append((f"cbir {name}", c["images_per_s"], c["text_p50_ms"], c["open_s"]))
        print(rows[-1], flush=True)

    ckpt = os.path.join(args.out, "checkpoints")
    cfg = json.load(open(os.path.join(ckpt, f"{KEY}.json"), encoding="utf-8"))
    model = cnclip.load_checkpoint(os.path.join(ckpt, f"clip_cn_{KEY}.pt"), "", cfg=cfg)
    with torch.inference_mode():
        for name, prec in (("fp32", "fp32"), ("fp16 (--half bundle)", "fp16")):
            image = torch.jit.load(os.path.join(bundles[prec], "image.pt"), map_location="cuda")
            text = torch.jit.load(os.path.join(bundles[prec], "text.pt"), map_location="cuda")
            rows.append((f"python traced {name}", images_per_s(image, x, args.seconds),
                         latency_p50_ms(text, trimmed, args.seconds), None))
            print(rows[-1], flush=True)
        for name, prec in (("fp32", "fp32"), ("fp16", "fp16")):
            image = export.with_precision(export.ClipImageTower(model).eval(), prec).cuda()
            text = export.with_precision(export.ClipTextTower(model).eval(), prec).cuda()
            rows.append((f"python eager {name}", images_per_s(image, x, args.seconds),
                         latency_p50_ms(text, trimmed, args.seconds), None))
            print(rows[-1], flush=True)

    print(f"\n{torch.cuda.get_device_name(0)}, torch {torch.__version__}; batch {args.batch}, "
          f"{args.seconds:g} s per figure\n")
    print("| side | images/s | text query p50 ms | open s |")
    print("| --- | --- | --- | --- |")
    base = next(r[1] for r in rows if r[0] == "python traced fp32")
    for name, ips, p50, open_s in rows:
        print(f"| {name} | {ips:.0f} ({ips / base:.2f}x traced fp32) | {p50:.2f} | "
              f"{'' if open_s is None else f'{open_s:.1f}'} |")


if __name__ == "__main__":
    main()
