"""DINOv2 image towers in bf16 against fp32: cbir (C API) and Python's TorchScript run as cbir
runs it, on the same bundles, the same inputs, in the same run.

    /usr/bin/python3 bench/model/dinov2.py [--models DIR] [--build DIR] [--threads 1]
                                           [--seconds S] [--rounds N] [--json PATH]

Bundles: DINOv2 ViT-S/14 and ViT-B/14 at full size with random weights, cls pooling, exported by
the real exporter (tools/export/make_test_models.py --full-size makes them as
full-dinov2-vits14-cls and full-dinov2-vitb14-cls in --models, default bench/out/models).
Images: one batch of 8 random 3 x 224 x 224 tensors per call (the towers' time does not depend on
the pixels); images/s, each figure the best of --rounds. bf16 is the fp32 bundle opened with
CBIR_PRECISION_BF16 (cbir) and bench/harness/like_cbir.bf16 (Python); only on a CPU with bf16
instructions, as cbir refuses it elsewhere. The figure asked for (issue 23) is the ratio
bf16 / fp32 per tower.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bench"))
import run as model_bench  # noqa: E402  (bench/model/run.py: the build and the timing loop)
from harness import like_cbir  # noqa: E402

ARCHS = ("vits14", "vitb14")
BATCH = 8


def bundles(models):
    folders = {a: os.path.join(models, f"full-dinov2-{a}-cls") for a in ARCHS}
    if not all(os.path.isfile(os.path.join(f, "bundle.json")) for f in folders.values()):
        print(f"making the full-size bundles in {models} (minutes)...", flush=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "export", "make_test_models.py"),
                        models, "--full-size"], check=True)
    return folders


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=os.path.join(ROOT, "bench", "out", "models"))
    p.add_argument("--build")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--json")
    args = p.parse_args()
    like_cbir.malloc_reuse()
    folders = bundles(args.models)
    best = {}  # (arch, precision, side) -> images/s
    with tempfile.TemporaryDirectory() as tmp:
        exe = model_bench.build_bench(args.build, tmp)
        if not model_bench.native_bf16(exe):
            sys.exit("dinov2.py: this CPU has no bf16 instructions (cbir refuses bf16 here)")
        torch.manual_seed(0)
        x = torch.randn(BATCH, 3, 224, 224)
        pixels, queries = os.path.join(tmp, "pixels.f32"), os.path.join(tmp, "none.txt")
        x.numpy().tofile(pixels)
        open(queries, "w").close()
        for r in range(args.rounds):
            for arch, folder in folders.items():
                for precision in ("fp32", "bf16"):
                    out = subprocess.run([exe, folder, str(args.threads), pixels, str(BATCH),
                                          str(args.seconds), queries, "cpu", precision],
                                         check=True, capture_output=True, text=True).stdout
                    rates = {"cbir": json.loads(out)["images_per_s"]}
                    like_cbir.threads(args.threads, precision)
                    tower = torch.jit.load(os.path.join(folder, "image.pt")).eval()
                    if precision == "bf16":
                        tower = like_cbir.bf16(tower, text=False)
                    with torch.inference_mode():
                        rates["python"] = model_bench.images_per_s(tower, x, args.seconds)
                    for side, rate in rates.items():
                        print(f"round {r + 1}: {arch} {precision} {side}: {rate:.2f} images/s", flush=True)
                        key = (arch, precision, side)
                        best[key] = max(best.get(key, 0.0), rate)

    print(f"\ntorch {torch.__version__}, {args.threads} thread(s), batch {BATCH}, "
          f"best of {args.rounds} round(s)\n")
    print("| tower | side | fp32 images/s | bf16 images/s | bf16 / fp32 |")
    print("| --- | --- | ---: | ---: | ---: |")
    for arch in ARCHS:
        for side in ("cbir", "python"):
            f, b = best[(arch, "fp32", side)], best[(arch, "bf16", side)]
            print(f"| DINOv2 {arch} | {side} | {f:.2f} | {b:.2f} | {b / f:.2f}x |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"threads": args.threads, "batch": BATCH,
                       "results": [{"arch": a, "precision": pr, "side": s, "images_per_s": v}
                                   for (a, pr, s), v in best.items()]}, f, indent=1)


if __name__ == "__main__":
    main()
