"""Text query latency: tokenize + encode + search a large collection through libcbir, per index
spec, against the original Python path's query encoding, same texts, same machine, same run.

    /usr/bin/python3 bench/query/run.py --bundle DIR [--build DIR] [--collection DIR] [--n N]
                                        [--specs SPEC;SPEC] [--threads T] [--seconds S]
                                        [--json PATH]

cbir: bench_query.cpp (built here against --build's libcbir) opens the bundle and a collection
of N synthetic vectors (made once in --collection, then reused), rebuilds it with each spec
and times, one query at a time: the text embedding alone, the search alone, and the whole
query (cbir_model_embed_texts + cbir_collection_search, k=10).
Python reference: Chinese-CLIP's tokenizer (bench/tokenizer/reference_tokenizer.py) + the
bundle's TorchScript text tower on ids padded to 52 (as the original system runs it) + L2
normalisation, torch on the same number of threads. It has no search of its own here (Debian
ships no FAISS for Python): bench/run adds raw FAISS's search time at the same size from
bench/store. The texts are the 96 Chinese and English queries of examples/data/queries.tsv.
"""
import argparse
import csv
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench", "tokenizer"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import reference_tokenizer as ref  # noqa: E402
from harness import like_cbir  # noqa: E402


def specs_for(n):
    """The index specs of bench/store at this size (about sqrt(n) lists)."""
    ivf = "ivf:nlist=%d,nprobe=32" % (1024 if n >= 100000 else 128 if n >= 10000 else 16)
    return ["flat", "hnsw:M=32,efConstruction=40,efSearch=64", ivf + ",code=sq8",
            ivf + ",code=pq64x8,rerank=10"]


def build_bench(build):
    if not glob.glob(os.path.join(build, "lib", "libcbir.so*")):
        sys.exit(f"no libcbir in {build}/lib: build it first (cmake --build {build} --target cbir)")
    exe = os.path.join(build, "bench_query")
    subprocess.run(["c++", "-std=c++17", "-O2", "-I", os.path.join(ROOT, "include"),
                    os.path.join(HERE, "bench_query.cpp"), "-o", exe, "-L", os.path.join(build, "lib"),
                    "-lcbir", "-Wl,-rpath," + os.path.abspath(os.path.join(build, "lib"))], check=True)
    return exe


def python_query_ms(bundle, texts, threads, seconds):
    """p50, p95 of the reference encoding of one text (tokenize, pad, tower, normalise)."""
    like_cbir.malloc_reuse()
    with open(os.path.join(bundle, "bundle.json"), encoding="utf-8") as f:
        like_cbir.threads(threads, json.load(f).get("precision", "fp32"))
    vocab = ref.read_vocab(os.path.join(bundle, "vocab.txt"))
    tower = torch.jit.load(os.path.join(bundle, "text.pt")).eval()

    def once(text):
        ids = torch.tensor([ref.encode(text, vocab)], dtype=torch.long)
        e = tower(ids)
        return e / e.norm(dim=-1, keepdim=True)

    with torch.inference_mode():
        once(texts[0])
        lat, start, i = [], time.perf_counter(), 0
        while len(lat) < 20 or time.perf_counter() - start < seconds:
            t = time.perf_counter()
            once(texts[i % len(texts)])
            lat.append((time.perf_counter() - t) * 1e3)
            i += 1
    lat.sort()
    return lat[len(lat) // 2], lat[len(lat) * 95 // 100]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--collection", default=os.path.join(ROOT, "bench", "out", "query-collection"))
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--specs", help="';'-separated cbir index specs (default: bench/store's)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "auto"),
                    help="cbir's model precision (the Python reference stays the bundle's own)")
    ap.add_argument("--seconds", type=float, default=3.0, help="per figure")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    specs = args.specs.split(";") if args.specs else specs_for(args.n)

    with open(os.path.join(ROOT, "examples", "data", "queries.tsv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    texts = [r["zh"] for r in rows] + [r["en"] for r in rows]
    exe = build_bench(args.build)
    with tempfile.TemporaryDirectory() as tmp:
        queries = os.path.join(tmp, "queries.txt")
        with open(queries, "w", encoding="utf-8") as f:
            f.write("\n".join(texts) + "\n")
        out = subprocess.run([exe, args.bundle, args.collection, str(args.n), str(args.threads),
                              str(args.seconds), queries, args.precision, *specs], check=True,
                             capture_output=True,
                             text=True).stdout
    result = json.loads(out)
    p50, p95 = python_query_ms(args.bundle, texts, args.threads, args.seconds)
    result["python"] = {"encode_p50_ms": p50, "encode_p95_ms": p95,
                        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    result["bundle"] = os.path.basename(os.path.normpath(args.bundle))

    print(f"{result['bundle']}, {args.n:,} vectors of {result['dim']}, k={result['k']}, "
          f"{args.threads} thread(s), cbir in {args.precision}; Python reference: tokenize + encode {p50:.2f} / {p95:.2f} ms")
    print("| spec | build s | cbir query p50 / p95 ms | of which search p50 ms | cbir encode p50 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for s in result["specs"]:
        print(f"| {s['spec']} | {s['build_s']:.1f} | {s['query_p50_ms']:.2f} / {s['query_p95_ms']:.2f} | "
              f"{s['search_p50_ms']:.3f} | {result['embed_p50_ms']:.2f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
