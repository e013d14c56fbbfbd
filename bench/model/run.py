"""Model inference: cbir (C API over LibTorch) against Python eager and Python TorchScript on the
same full-size bundle, the same inputs, the same machine, in the same run.

    /usr/bin/python3 bench/model/run.py [--quick] [--json PATH] [--models DIR] [--build DIR]
                                        [--threads 1,2] [--seconds S] [--rounds N]

  --quick      1 thread, 2 s per measure, 1 round (a minute or two once the bundles exist)
  --json PATH  also write the figures as JSON: {"machine": {...}, "results": {"PRECISION|THREADS|
               SIDE": {metric: value}}, "int8_vs_fp32": {"image_min_cosine", "text_min_cosine"}}

Model: Chinese-CLIP ViT-B-16 + RoBERTa-wwm-ext-base at full size with random weights, fp32,
bf16 (the fp32 bundle converted at open: cbir with CBIR_PRECISION_BF16; Python eager wholly
.to(bfloat16), Python traced as cbir runs it, bench/harness/like_cbir.py;
only on a CPU with bf16 instructions, as cbir refuses it elsewhere) and int8 (dynamic int8 Linear
layers), made by tools/export/make_test_models.py --full-size through
the real exporter (into --models, default bench/out/models: minutes and ~1.5 GB the first time).
cbir: bench_model.c against libcbir (--build: a build tree holding lib/libcbir.so; by default
one is configured and built in bench/out/build, Release).

Images: the 8 golden images as Pillow preprocessed them (224 x 224), normalised, one batch of 8
per call; images/s. Python eager is the exporter's nn.Module loaded from the official-layout
checkpoint (int8: torch's quantize_dynamic of it), Python traced is the bundle's own image.pt
through torch.jit.load; both under torch.inference_mode().
Text: one query per call, cycling through the golden texts; p50 / p95 latency. cbir's figure
covers the whole query (tokenize + encode trimmed + L2-normalise); Python's covers the tower only,
with Chinese-CLIP's ids padded to 52 (as the original system runs it) or trimmed to the text's
length, so Python's tokenizer time is not counted against it.
int8 against fp32: the minimum cosine over the golden images and texts (texts trimmed, as cbir
runs them) between the two bundles' own TorchScript towers, the files cbir loads (goal >= 0.99;
CI checks the same on the tiny int8 bundle through cbir, tests/unit/test_model_parity.cpp).
Each configuration runs --rounds times, alternating sides; each figure is the best round, which
damps the noise of a shared machine.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "export"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from harness import like_cbir  # noqa: E402
import cnclip  # noqa: E402
import export  # noqa: E402

KEY = "full-vit-b-16"
BATCH = 8


def native_bf16(exe):
    """What cbir says of this CPU (cbir version --json, through the bench's own libcbir)."""
    out = subprocess.run([exe, "--cpu"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["native_bf16"]


def make_models(models):
    """{precision: bundle folder}; bf16 runs the fp32 bundle."""
    if not os.path.isfile(os.path.join(models, KEY + "-int8", "bundle.json")):
        print(f"making the full-size bundles in {models} (minutes)...", flush=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "export", "make_test_models.py"),
                        models, "--full-size"], check=True)
    return {p: os.path.join(models, f"{KEY}-int8" if p == "int8" else KEY)
            for p in ("fp32", "bf16", "int8")}


def build_bench(build, tmp):
    if build is None:
        build = os.path.join(ROOT, "bench", "out", "build")
        subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                        "-DCBIR_BUILD_TESTS=OFF", "-DCBIR_BUILD_CLI=OFF", "-DCBIR_BUILD_EXAMPLES=OFF"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", build, "--target", "cbir", "-j2"], check=True)
    libdir = os.path.join(build, "lib")
    exe = os.path.join(tmp, "bench_model")
    subprocess.run(["cc", "-std=c99", "-O2", os.path.join(HERE, "bench_model.c"), "-I",
                    os.path.join(ROOT, "include"), "-L", libdir, "-lcbir", f"-Wl,-rpath,{libdir}",
                    "-o", exe], check=True)
    return exe


def inputs(bundle):
    """(normalised images [8,3,224,224], texts, padded ids [n,52], lengths)."""
    ref = json.load(open(os.path.join(bundle, "reference.json"), encoding="utf-8"))
    pre = json.load(open(os.path.join(bundle, "bundle.json"), encoding="utf-8"))["image"]["preprocess"]
    rgb = np.stack([np.fromfile(i["rgb"], dtype=np.uint8).reshape(i["height"], i["width"], 3)
                    for i in ref["images"][:BATCH]])
    x = torch.from_numpy(rgb).permute(0, 3, 1, 2).float() / 255.0
    x = (x - torch.tensor(pre["mean"])[:, None, None]) / torch.tensor(pre["std"])[:, None, None]
    ids = torch.tensor([t["ids"] for t in ref["texts"]], dtype=torch.long)
    return x.contiguous(), [t["text"] for t in ref["texts"]], ids, (ids != 0).sum(1).tolist()


def images_per_s(tower, x, seconds):
    tower(x)
    done, t0 = 0, time.perf_counter()
    while True:
        tower(x)
        done += x.shape[0]
        if time.perf_counter() - t0 >= seconds:
            return done / (time.perf_counter() - t0)


def latency_ms(tower, rows, seconds):
    """p50, p95 of tower(row) over rows, cycled for `seconds`."""
    tower(rows[0])
    lat, t0, i = [], time.perf_counter(), 0
    while not lat or time.perf_counter() - t0 < seconds:
        start = time.perf_counter()
        tower(rows[i % len(rows)])
        lat.append((time.perf_counter() - start) * 1e3)
        i += 1
    lat.sort()
    return lat[len(lat) // 2], lat[len(lat) * 95 // 100]


def python_towers(models, bundle, precision):
    cfg = json.load(open(os.path.join(models, "checkpoints", KEY + ".json"), encoding="utf-8"))
    model = cnclip.load_checkpoint(os.path.join(models, "checkpoints", f"clip_cn_{KEY}.pt"), "", cfg=cfg)
    bf16 = precision == "bf16"  # the fp32 towers, converted as cbir converts them at open
    q = "fp32" if bf16 else precision
    eager = {"image": export.with_precision(export.ClipImageTower(model).eval(), q),
             "text": export.with_precision(export.ClipTextTower(model).eval(), q)}
    traced = {t: torch.jit.load(os.path.join(bundle, f"{t}.pt")).eval() for t in ("image", "text")}
    if bf16:  # eager: whole towers in bf16; traced: as cbir runs them
        eager = {t: m.to(torch.bfloat16) for t, m in eager.items()}
        eager["image"] = (lambda tower: lambda x: tower(x.to(torch.bfloat16)))(eager["image"])
        traced = {t: like_cbir.bf16(m, t == "text") for t, m in traced.items()}
    return {"python eager": eager, "python traced": traced}


def agree(a, b):
    """Lowest centred cosine (each set's mean row subtracted first) and lowest plain cosine."""
    a, b = a.float(), b.float()
    cos = torch.nn.functional.cosine_similarity
    return {"centred": cos(a - a.mean(0), b - b.mean(0), dim=-1).min().item(),
            "plain": cos(a, b, dim=-1).min().item()}


def bf16_vs_fp32(bundle, x, trimmed):
    """agree() between the fp32 bundle's towers run in fp32 and in bf16, over the inputs."""
    f = {t: torch.jit.load(os.path.join(bundle, f"{t}.pt")).eval() for t in ("image", "text")}
    h = {t: like_cbir.bf16(torch.jit.load(os.path.join(bundle, f"{t}.pt")).eval(), t == "text")
         for t in ("image", "text")}

    with torch.inference_mode():
        image = agree(f["image"](x), h["image"](x))
        text = agree(torch.cat([f["text"](r) for r in trimmed]),
                     torch.cat([h["text"](r) for r in trimmed]))
    return {"image": image, "text": text}


def int8_vs_fp32(bundles, x, trimmed):
    """Lowest plain and centred cosine between the int8 and fp32 towers over the golden images
    and texts."""
    towers = {p: {t: torch.jit.load(os.path.join(b, f"{t}.pt")).eval() for t in ("image", "text")}
              for p, b in bundles.items()}

    with torch.inference_mode():
        image = agree(towers["int8"]["image"](x), towers["fp32"]["image"](x))
        text = agree(torch.cat([towers["int8"]["text"](r) for r in trimmed]),
                     torch.cat([towers["fp32"]["text"](r) for r in trimmed]))
    return {"image_min_cosine": image["plain"], "text_min_cosine": text["plain"],
            "image_centred": image["centred"], "text_centred": text["centred"]}


def best(old, new, higher):
    if old is None:
        return new
    return max(old, new) if higher else min(old, new)


def main():
    like_cbir.malloc_reuse()  # before any tensor: the reference allocates as cbir does
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json")
    p.add_argument("--models", default=os.path.join(ROOT, "bench", "out", "models"))
    p.add_argument("--build")
    p.add_argument("--threads")
    p.add_argument("--seconds", type=float)
    p.add_argument("--rounds", type=int)
    args = p.parse_args()
    args.threads = args.threads or ("1" if args.quick else "1,2")
    args.seconds = args.seconds or (2.0 if args.quick else 8.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    threads = [int(t) for t in args.threads.split(",")]
    bundles = make_models(args.models)
    x, texts, ids, lengths = inputs(bundles["fp32"])
    tmp_holder = tempfile.TemporaryDirectory()
    exe = build_bench(args.build, tmp_holder.name)
    if not native_bf16(exe):
        print("this CPU has no bf16 instructions: bf16 is left out (cbir refuses it here)")
        del bundles["bf16"]
    padded = [ids[i:i + 1] for i in range(len(texts))]
    trimmed = [ids[i:i + 1, :lengths[i]] for i in range(len(texts))]
    results = {}  # (precision, threads, side) -> {metric: value}
    agreement = int8_vs_fp32({p: bundles[p] for p in ("fp32", "int8")}, x, trimmed)
    bf16_agreement = bf16_vs_fp32(bundles["fp32"], x, trimmed) if "bf16" in bundles else None
    load = os.getloadavg()

    def keep(key, metric, value, higher):
        results.setdefault(key, {})[metric] = best(results.get(key, {}).get(metric), value, higher)

    with tmp_holder as tmp:
        pixels, queries = os.path.join(tmp, "pixels.f32"), os.path.join(tmp, "queries.txt")
        x.numpy().astype(np.float32).tofile(pixels)
        with open(queries, "w", encoding="utf-8") as f:
            f.write("\n".join(t.replace("\n", " ") for t in texts) + "\n")
        for precision, bundle in bundles.items():
            towers = python_towers(args.models, bundle, precision)
            for r in range(args.rounds):
                for t in threads:
                    print(f"round {r + 1}: {precision}, {t} thread(s)", flush=True)
                    out = subprocess.run([exe, bundle, str(t), pixels, str(BATCH), str(args.seconds),
                                          queries, "cpu", precision],
                                         check=True, capture_output=True, text=True).stdout
                    c = json.loads(out)
                    keep((precision, t, "cbir"), "images_per_s", c["images_per_s"], True)
                    keep((precision, t, "cbir"), "text_p50", c["text_p50_ms"], False)
                    keep((precision, t, "cbir"), "text_p95", c["text_p95_ms"], False)
                    keep((precision, t, "cbir"), "open_s", c["open_s"], False)
                    like_cbir.threads(t, precision)
                    with torch.inference_mode():
                        for side, tw in towers.items():
                            keep((precision, t, side), "images_per_s",
                                 images_per_s(tw["image"], x, args.seconds), True)
                            for name, rows in (("padded", padded), ("trimmed", trimmed)):
                                p50, p95 = latency_ms(tw["text"], rows, args.seconds / 2)
                                keep((precision, t, side), f"text_{name}_p50", p50, False)
                                keep((precision, t, side), f"text_{name}_p95", p95, False)

    print(f"\ntorch {torch.__version__}, {os.cpu_count()} cores; batch {BATCH}; best of {args.rounds} rounds\n")
    print("| precision | threads | side | images/s | text p50 ms: padded / trimmed | text p95 ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for precision in bundles:
        for t in threads:
            for side in ("python eager", "python traced"):
                r = results[(precision, t, side)]
                print(f"| {precision} | {t} | {side} | {r['images_per_s']:.2f} |"
                      f" {r['text_padded_p50']:.1f} / {r['text_trimmed_p50']:.1f} |"
                      f" {r['text_padded_p95']:.1f} / {r['text_trimmed_p95']:.1f} |")
            c, traced = results[(precision, t, "cbir")], results[(precision, t, "python traced")]
            print(f"| {precision} | {t} | **cbir** | **{c['images_per_s']:.2f}**"
                  f" ({c['images_per_s'] / traced['images_per_s']:.2f}x traced) |"
                  f" **{c['text_p50']:.1f}** whole query ({traced['text_padded_p50'] / c['text_p50']:.1f}x"
                  f" traced padded) | {c['text_p95']:.1f} |")
    print(f"\ncbir opens a bundle (sha256 of every file, load, warm-up) in "
          + ", ".join(f"{p} {results[(p, threads[0], 'cbir')]['open_s']:.1f} s" for p in bundles))
    print(f"\nint8 vs fp32 (the bundles' towers, golden inputs), lowest centred / plain cosine: images "
          f"{agreement['image_centred']:.4f} / {agreement['image_min_cosine']:.4f}, texts "
          f"{agreement['text_centred']:.4f} / {agreement['text_min_cosine']:.4f}")
    if bf16_agreement:
        b = bf16_agreement
        print(f"bf16 vs fp32 (the fp32 bundle's towers), lowest centred / plain cosine: images "
              f"{b['image']['centred']:.5f} / {b['image']['plain']:.5f}, texts "
              f"{b['text']['centred']:.5f} / {b['text']['plain']:.5f}")
    if "bf16" in bundles:
        for t in threads:
            f32, b16 = results[("fp32", t, "cbir")], results[("bf16", t, "cbir")]
            print(f"cbir bf16 / fp32, {t} thread(s): images {b16['images_per_s'] / f32['images_per_s']:.2f}x,"
                  f" text query {f32['text_p50'] / b16['text_p50']:.2f}x")
    load = [max(a, b) for a, b in zip(load, os.getloadavg())]
    print(f"load average up to {load[0]:.1f}")
    raw = {"|".join(map(str, k)): v for k, v in results.items()}
    print("\nraw:", json.dumps(raw))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"machine": {"cores": os.cpu_count(), "torch": torch.__version__,
                                   "loadavg_max": load, "rounds": args.rounds, "seconds": args.seconds},
                       "results": raw, "int8_vs_fp32": agreement, "bf16_vs_fp32": bf16_agreement},
                      f, indent=1)


if __name__ == "__main__":
    main()
