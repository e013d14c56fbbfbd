"""The ceiling of bf16 on this CPU: GFLOP/s of one Linear layer in fp32 (OpenBLAS, as cbir runs
fp32) and in bf16 (oneDNN, as cbir runs bf16), one thread, at the shapes of ViT-B-16 and of a
text query, weights read fresh for each call as in a model whose weights do not fit the caches.

    /usr/bin/python3 bench/model/gemm.py [--threads 1] [--seconds 1]

A tower whose time is mostly matrix products cannot gain more from bf16 than the bf16 / fp32
ratio printed here; what it gains beyond comes from the element-wise operations.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import like_cbir  # noqa: E402

# (what, rows, in, out): a ViT-B-16 batch of 8 is 8 x 197 token rows; a text query 13 tokens
SHAPES = [("ViT-B-16 batch 8, MLP in", 1576, 768, 3072), ("ViT-B-16 batch 8, MLP out", 1576, 3072, 768),
          ("text query, MLP in", 13, 768, 3072), ("text query, MLP out", 13, 3072, 768)]
COPIES = 24  # distinct weight matrices cycled through: ~110-220 MB, past the last-level cache


def rate(x, weights, seconds):
    F.linear(x, weights[0])
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        F.linear(x, weights[calls % len(weights)])
        calls += 1
    elapsed = time.perf_counter() - t0
    return 2.0 * x.shape[0] * x.shape[1] * weights[0].shape[0] * calls / elapsed / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=1.0)
    args = p.parse_args()
    like_cbir.malloc_reuse()
    print(f"torch {torch.__version__}, {args.threads} thread(s), bf16 instructions: "
          f"{like_cbir.native_bf16()}\n")
    print("| shape | fp32 GFLOP/s | bf16 GFLOP/s | bf16 / fp32 |")
    print("| --- | ---: | ---: | ---: |")
    with torch.inference_mode():
        for what, m, k, n in SHAPES:
            got = {}
            for precision, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
                like_cbir.threads(args.threads, precision)
                x = torch.randn(m, k).to(dtype)
                weights = [torch.randn(n, k).to(dtype) for _ in range(COPIES)]
                got[precision] = rate(x, weights, args.seconds)
            print(f"| {what} ({m}x{k} by {k}x{n}) | {got['fp32']:.0f} | {got['bf16']:.0f} | "
                  f"{got['bf16'] / got['fp32']:.2f}x |")


if __name__ == "__main__":
    main()
