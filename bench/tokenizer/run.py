"""Tokenizer throughput: libcbir's C++ tokenizer against the Python reference, same texts,
same machine, same run.

    /usr/bin/python3 bench/tokenizer/run.py [--build DIR] [--golden DIR] [--seconds S] [--rounds N]
                                            [--json PATH]

--build is a CMake build folder of this repository in which libcbir is built (default: build).
The texts are the golden texts (../shared/golden/tokenizer.jsonl). The reference is
reference_tokenizer.py, a pure-Python port of Chinese-CLIP's tokenizer (ids as Python lists, no
torch tensor: if anything faster than cn_clip's tokenize). Both sides' ids are checked against
the golden ones, so neither is timed doing something else.
"""
import argparse
import array
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import reference_tokenizer as ref  # noqa: E402


def time_reference(texts, vocab, seconds):
    done, start = 0, time.perf_counter()
    while True:
        for t in texts:
            ref.encode(t, vocab)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def build_bench(build):
    libs = glob.glob(os.path.join(build, "lib", "libcbir.so*")) + \
        glob.glob(os.path.join(build, "lib", "libcbir.a"))
    if not libs:
        sys.exit(f"no libcbir in {build}/lib: build it first (cmake --build {build} --target cbir)")
    exe = os.path.join(build, "bench_tokenizer")
    subprocess.run(["c++", "-std=c++17", "-O2", "-I", os.path.join(ROOT, "include"),
                    os.path.join(HERE, "bench_tokenizer.cpp"), "-o", exe,
                    "-L", os.path.join(build, "lib"), "-lcbir",
                    "-Wl,-rpath," + os.path.abspath(os.path.join(build, "lib"))], check=True)
    return exe


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--golden", default=os.path.join(ROOT, "..", "shared", "golden"))
    ap.add_argument("--seconds", type=float, default=2.0, help="per side and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", help="also write the figures here (for bench/run)")
    args = ap.parse_args()

    vocab_path = os.path.join(args.golden, "vocab.txt")
    golden_path = os.path.join(args.golden, "tokenizer.jsonl")
    if not ref.check_golden(vocab_path, golden_path):
        sys.exit("the reference does not reproduce the golden ids: its timing would mean nothing")
    with open(golden_path, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    vocab = ref.read_vocab(vocab_path)

    exe = build_bench(args.build)
    with tempfile.TemporaryDirectory() as tmp:
        blob = os.path.join(tmp, "texts.bin")
        with open(blob, "wb") as f:
            f.write(b"".join(t.encode("utf-8") + b"\0" for t in texts))
        # Rounds alternate between the two sides and the best of each counts, so that a busy
        # machine slows both alike rather than whichever happened to run at the wrong moment.
        python, cpp = 0.0, {"batch": 0.0, "single": 0.0}
        for _ in range(args.rounds):
            python = max(python, time_reference(texts, vocab, args.seconds))
            out = subprocess.run([exe, vocab_path, blob, str(args.seconds),
                                  os.path.join(tmp, "ids")],
                                 check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                mode, rate = line.split()
                cpp[mode] = max(cpp[mode], float(rate))
        ids = array.array("q")
        with open(os.path.join(tmp, "ids"), "rb") as f:
            ids.frombytes(f.read())
    with open(golden_path, encoding="utf-8") as f:
        want = [i for line in f for i in json.loads(line)["ids"]]
    if list(ids) != want:
        sys.exit("cbir_tokenize does not reproduce the golden ids")

    print(f"{len(texts)} golden texts (ids checked on both sides), context length 52, 1 thread, "
          f"best of {args.rounds} rounds")
    print(f"| tokenizer | texts/s | vs Python |")
    print(f"| --- | ---: | ---: |")
    print(f"| Python reference (reference_tokenizer.py) | {python:,.0f} | 1.0x |")
    print(f"| cbir_tokenize, one call per text | {cpp['single']:,.0f} | "
          f"{cpp['single'] / python:.1f}x |")
    print(f"| cbir_tokenize, all texts in one call | {cpp['batch']:,.0f} | "
          f"{cpp['batch'] / python:.1f}x |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"texts": len(texts), "rounds": args.rounds, "python_texts_per_s": python,
                       "cbir_single_texts_per_s": cpp["single"], "cbir_batch_texts_per_s": cpp["batch"]}, f)


if __name__ == "__main__":
    main()
