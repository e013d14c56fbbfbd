"""Indexing throughput: `cbir index` against the original system's Python pipeline and against the
model alone, on the same JPEG folder, the same bundle, the same machine, in the same run.

    /usr/bin/python3 bench/ingest/run.py [--quick] [--json PATH] [--images N] [--rounds R]
                                         [--precisions fp32,bf16,int8] [--workers W]
                                         [--models DIR] [--build DIR]

  --quick        16 images, 1 round (a minute or two once the bundles exist): checks it works
  --json PATH    also write the figures as JSON: {"machine": {...}, "results": [{"precision",
                 "side", "images_per_s", "seconds", "images"}...], "ratios": {...}}
  --images N     photos in the folder (default 120): 70% 640x480, 20% 2000x1500, 10% 4000x3000
  --rounds R     rounds, sides alternating within each (default 2); each figure is the best round
  --workers W    DataLoader workers of the Python pipeline (default 2, as the original ran it)
  --models DIR   where the full-size bundles are (default bench/out/models; made by
                 tools/export/make_test_models.py --full-size when missing: minutes, ~1.5 GB)
  --build DIR    build tree holding cli/cbir (default build-perfbench, else build)

Sides, each a separate process timed by wall clock from start to exit:
  cbir          `cbir index DIR --db <fresh folder> --model BUNDLE --quiet --json` (opens and
                checks the bundle, creates the collection, decodes on its worker pool while it
                encodes batches of 8, writes SQLite + FAISS, commits)
  python        the original pipeline: a Dataset doing Image.open(p).convert('RGB') + torchvision
                Resize/ToTensor/Normalize, DataLoader(batch_size=8, num_workers=W), the bundle's
                own image.pt through torch.jit.load under torch.no_grad(), L2-normalised vectors
                collected in numpy (no database: that only flatters it)
  model alone   torch.jit.load(image.pt) on pre-made [8, 3, 224, 224] tensors, N images; only the
                forward calls are timed (the ceiling any pipeline can reach on this machine), with
                the threads cbir index gives the model (one per core, split for the precision)
  cbir ingest   the cbir side's own "seconds" (its --json summary): the ingest run alone, without
                process start, bundle open and warm-up, so timed like "model alone" is
The model is Chinese-CLIP ViT-B-16 at full size with random weights (bench/model's bundles), fp32
and int8 (dynamic int8 Linear layers), and bf16: the fp32 bundle run by `cbir index --precision
bf16` (where the CPU has bf16 instructions; skipped elsewhere). cbir is always given its
precision by name (the CLI's default is auto). In the bf16 row the Python pipeline stays the
original fp32 one (the reference users have) and "model alone" is the bundle in bf16 as cbir
runs it (bench/harness/like_cbir.py). Goals: cbir >= 90% of the model-alone rate (issue 7);
bf16 >= 2.5x the Python pipeline (issue 23).
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from harness import like_cbir  # noqa: E402
KEY = "full-vit-b-16"
BATCH = 8
SIZES = [(640, 480)] * 7 + [(2000, 1500)] * 2 + [(4000, 3000)]


# ------------------------------------------------------------------------- the timed children

def python_pipeline(folder, bundle, workers):
    """The original system's indexing loop; prints the number of vectors made."""
    like_cbir.malloc_reuse()
    import numpy as np
    import torch
    import torchvision.transforms as T
    from PIL import Image

    pre = json.load(open(os.path.join(bundle, "bundle.json"), encoding="utf-8"))["image"]["preprocess"]
    mode = getattr(T.InterpolationMode, pre["interpolation"].upper())
    resize = ([T.Resize((pre["size"], pre["size"]), interpolation=mode)] if pre["resize"] == "squash"
              else [T.Resize(pre["size"], interpolation=mode), T.CenterCrop(pre["crop"])])
    transform = T.Compose(resize + [T.ToTensor(), T.Normalize(pre["mean"], pre["std"])])

    class Photos(torch.utils.data.Dataset):
        def __init__(self, paths):
            self.paths = paths

        def __len__(self):
            return len(self.paths)

        def __getitem__(self, i):
            return transform(Image.open(self.paths[i]).convert("RGB"))

    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder))
    model = torch.jit.load(os.path.join(bundle, "image.pt")).eval()
    loader = torch.utils.data.DataLoader(Photos(paths), batch_size=BATCH, num_workers=workers)
    vectors = []
    with torch.no_grad():
        for x in loader:
            v = model(x)
            vectors.append((v / v.norm(dim=-1, keepdim=True)).numpy())
    print(len(np.concatenate(vectors)))


def model_alone(bundle, n, precision):
    """Prints the seconds the forward calls on n images (batches of 8) took, with the threads
    `cbir index` gives the model (one per core, split for the precision)."""
    like_cbir.malloc_reuse()
    like_cbir.threads(os.cpu_count(), precision)
    import torch

    model = torch.jit.load(os.path.join(bundle, "image.pt")).eval()
    if precision == "bf16":
        model = like_cbir.bf16(model, text=False)
    x = torch.randn(BATCH, 3, 224, 224)
    with torch.no_grad():
        model(x)  # the first calls profile and optimise the graph: not part of the rate
        model(x)
        t0 = time.perf_counter()
        for _ in range((n + BATCH - 1) // BATCH):
            model(x)
        print(time.perf_counter() - t0)


# ----------------------------------------------------------------------------------- the driver

def make_photos(folder, n):
    """n photo-like JPEGs (quality 90), made once and kept."""
    spec = importlib.util.spec_from_file_location("bench_image", os.path.join(ROOT, "bench", "image", "run.py"))
    bench_image = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_image)
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        path = os.path.join(folder, f"photo_{i:05d}.jpg")
        if not os.path.exists(path):
            w, h = SIZES[i % len(SIZES)]
            bench_image.photo_like(w, h, 1000 + i).save(path + ".tmp", "JPEG", quality=90)
            os.replace(path + ".tmp", path)
    return folder


def make_models(models):
    if not os.path.isfile(os.path.join(models, KEY + "-int8", "bundle.json")):
        print(f"making the full-size bundles in {models} (minutes)...", flush=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "export", "make_test_models.py"),
                        models, "--full-size"], check=True)
    # bf16 runs the fp32 bundle, converted at open
    return {p: os.path.join(models, KEY if p != "int8" else f"{KEY}-{p}") for p in ("fp32", "bf16", "int8")}


def find_cbir(build):
    for b in ([build] if build else ["build-perfbench", "build"]):
        exe = os.path.join(ROOT, b, "cli", "cbir")
        if os.access(exe, os.X_OK):
            return exe
    sys.exit(f"run.py: no cli/cbir in {build or 'build-perfbench or build'}; build the cbir_cli target")


def timed(cmd, env=None):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return time.perf_counter() - t0, out


def run_side(side, cbir, folder, bundle, precision, n, workers, tmp):
    """(seconds, images) of one side once."""
    me = [sys.executable, os.path.abspath(__file__)]
    if side == "cbir":
        db = tempfile.mkdtemp(dir=tmp)
        shutil.rmtree(db)  # a fresh collection each run
        # an int8 bundle runs in int8 whatever is asked; fp32 and bf16 are named
        named = [] if precision == "int8" else ["--precision", precision]
        seconds, out = timed([cbir, "index", folder, "--db", db, "--model", bundle, "--quiet", "--json"]
                             + named)
        summary = json.loads(out)
        if summary["added"] != n or summary["failed"]:
            sys.exit(f"run.py: cbir index added {summary['added']} of {n}: {summary['failures']}")
        shutil.rmtree(db)
        return seconds, n, summary["seconds"]
    if side == "python":
        seconds, out = timed(me + ["--child-python", folder, bundle, str(workers)])
        if int(out.split()[-1]) != n:
            sys.exit(f"run.py: the Python pipeline made {out.split()[-1]} vectors of {n}")
        return seconds, n, None
    _, out = timed(me + ["--child-model", bundle, str(n), precision])
    return float(out.split()[-1]), (n + BATCH - 1) // BATCH * BATCH, None


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child-python":
        return python_pipeline(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    if len(sys.argv) > 1 and sys.argv[1] == "--child-model":
        return model_alone(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json")
    p.add_argument("--images", type=int)
    p.add_argument("--rounds", type=int)
    p.add_argument("--precisions", default="fp32,bf16,int8" if like_cbir.native_bf16() else "fp32,int8")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--models", default=os.path.join(ROOT, "bench", "out", "models"))
    p.add_argument("--build")
    args = p.parse_args()
    n = args.images or (16 if args.quick else 120)
    rounds = args.rounds or (1 if args.quick else 2)
    cbir = find_cbir(args.build)
    bundles = make_models(args.models)
    folder = make_photos(os.path.join(ROOT, "bench", "out", "ingest-photos", str(n)), n)
    sides = ("cbir", "python", "model alone")
    best = {}  # (precision, side) -> (images/s, seconds, images)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for precision in args.precisions.split(","):
                order = sides if r % 2 == 0 else sides[::-1]
                for side in order:
                    seconds, done, ingest_s = run_side(side, cbir, folder, bundles[precision],
                                                       precision, n, args.workers, tmp)
                    for name, sec in ((side, seconds), ("cbir ingest", ingest_s)):
                        if sec is None:
                            continue
                        rate = done / sec
                        print(f"round {r + 1}: {precision} {name}: {rate:.2f} images/s ({sec:.1f} s)",
                              flush=True)
                        if rate > best.get((precision, name), (0,))[0]:
                            best[(precision, name)] = (rate, sec, done)
    load = [max(a, b) for a, b in zip(load, os.getloadavg())]

    print(f"\n{n} JPEGs ({', '.join(sorted({f'{w}x{h}' for w, h in SIZES}))}), batch {BATCH}, "
          f"{os.cpu_count()} cores, best of {rounds} round(s), load average up to {load[0]:.1f}\n")
    print("| precision | cbir index | Python pipeline | model alone | cbir ingest | cbir / model alone "
          "| cbir ingest / model alone | cbir / Python |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    ratios = {}
    for precision in args.precisions.split(","):
        c, py, m, ci = (best[(precision, s)][0] for s in sides + ("cbir ingest",))
        ratios[precision] = {"cbir_vs_model_alone": c / m, "cbir_ingest_vs_model_alone": ci / m,
                             "cbir_vs_python": c / py}
        print(f"| {precision} | {c:.2f} | {py:.2f} | {m:.2f} | {ci:.2f} | {c / m:.0%} | {ci / m:.0%} "
              f"| {c / py:.2f}x |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"machine": {"cores": os.cpu_count(), "loadavg_max": load, "images": n,
                                   "rounds": rounds},
                       "results": [{"precision": pr, "side": s, "images_per_s": v[0], "seconds": v[1],
                                    "images": v[2]} for (pr, s), v in best.items()],
                       "ratios": ratios}, f, indent=1)


if __name__ == "__main__":
    main()
