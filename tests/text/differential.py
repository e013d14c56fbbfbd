"""Differential test: `cbir tokenize` against the pure-Python port of Chinese-CLIP's tokenizer
(bench/tokenizer/reference_tokenizer.py), which uses Python's own str.lower(), unicodedata and
str.split(), on thousands of random texts drawn from every Unicode category.

usage: differential.py CBIR_BINARY GOLDEN_DIR
Uses GOLDEN_DIR/vocab.txt (the real vocabulary) when present, else a small vocab of its own.
Only characters this Python's unicodedata knows are drawn: utf8proc may know a newer Unicode.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import unicodedata

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench",
                                "tokenizer"))
import reference_tokenizer as ref  # noqa: E402

TEXTS = 4000
PER_RUN = 1000  # each run of the command loads libcbir (LibTorch included): seconds


def character_pools():
    """Assigned code points grouped so that every rule gets exercised often."""
    pools = {k: [] for k in ("mark", "punct", "space", "control", "cased", "cjk", "other")}
    for cp in range(1, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat == "Cn":
            continue
        if cat.startswith("M"):
            pools["mark"].append(ch)
        elif cat.startswith("P"):
            pools["punct"].append(ch)
        elif cat.startswith("Z") or ch in "\t\n\r":
            pools["space"].append(ch)
        elif cat in ("Cc", "Cf"):
            pools["control"].append(ch)
        elif cat in ("Lu", "Ll", "Lt"):
            pools["cased"].append(ch)
        elif ref.is_cjk(ch):
            pools["cjk"].append(ch)
        else:
            pools["other"].append(ch)
    pools["ascii"] = [chr(c) for c in range(32, 127)] + ["\t", "\n", " ", " "]
    pools["greek"] = list("ΣΑΟΔσςο.'·:ᾼΐ")  # final-sigma contexts
    return pools


def random_texts(rng, pools):
    names = list(pools)
    weights = [4 if n == "ascii" else 2 if n in ("cased", "cjk", "greek") else 1 for n in names]
    texts = []
    for _ in range(TEXTS):
        n = rng.randrange(0, 25)
        texts.append("".join(rng.choice(pools[rng.choices(names, weights)[0]]) for _ in range(n)))
    return texts


def own_vocab(folder):
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    singles = [chr(c) for c in range(33, 127)] + list("σςοδαé猫狗のテ") + ["\u1112", "\u1161"]
    tokens += singles + ["##" + c for c in singles] + ["the", "cat", "##at", "##ing", "aa"]
    path = os.path.join(folder, "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(tokens) + "\n")
    return path


def main(cbir, golden):
    with tempfile.TemporaryDirectory() as tmp:
        vocab_path = os.path.join(golden, "vocab.txt")
        if not os.path.isfile(vocab_path):
            print(f"golden vocab not found at {golden}: using a small vocab of this test's own")
            vocab_path = own_vocab(tmp)
        vocab = ref.read_vocab(vocab_path)
        rng = random.Random(1234)
        texts = random_texts(rng, character_pools())
        bad = 0
        for start in range(0, len(texts), PER_RUN):
            chunk = texts[start:start + PER_RUN]
            p = subprocess.run([cbir, "tokenize", "--vocab", vocab_path, "--"] + chunk,
                               capture_output=True, check=False)
            if p.returncode != 0:
                print("cbir tokenize failed:", p.stderr.decode(errors="replace"))
                return 1
            for text, line in zip(chunk, p.stdout.decode("utf-8").split("\n")):
                got = json.loads(line)
                want = {"text": text, "tokens": ref.tokenize(text, vocab),
                        "ids": ref.encode(text, vocab)}
                if got != want:
                    bad += 1
                    if bad <= 10:
                        print("mismatch for", ascii(text), "\n  want", want["tokens"],
                              "\n  got ", got["tokens"])
        print(f"{len(texts) - bad}/{len(texts)} random texts agree with the Python reference "
              f"(Python {sys.version.split()[0]}, Unicode {unicodedata.unidata_version})")
        return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], os.environ.get("CBIR_GOLDEN_DIR") or sys.argv[2]))
