"""Tests of `cbir tokenize`, run by CTest (tests/text.cmake).

usage: cli_tokenize.py CBIR_BINARY golden GOLDEN_DIR   every golden text, as Chinese-CLIP gave it
                                                       (exit 77, a CTest skip, without the data)
       cli_tokenize.py CBIR_BINARY basics              output format, options and errors
"""
import json
import os
import subprocess
import sys
import tempfile


def run(cbir, *args):
    p = subprocess.run([cbir, "tokenize", *args], capture_output=True, check=False)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", errors="replace")


def golden(cbir, folder):
    path = os.path.join(folder, "tokenizer.jsonl")
    if not os.path.isfile(path):
        print(f"SKIPPED: golden data not found at {folder} (set CBIR_GOLDEN_DIR)")
        return 77
    with open(path, encoding="utf-8") as f:
        expected = [json.loads(line) for line in f]
    # The folder stands for its vocab.txt; `--` because texts may begin with '-'.
    code, out, err = run(cbir, "--vocab", folder, "--", *[g["text"] for g in expected])
    if code != 0:
        print(f"cbir tokenize failed ({code}): {err}")
        return 1
    lines = out.split("\n")[:-1]  # not splitlines(): U+2028 and friends stay in texts
    if len(lines) != len(expected):
        print(f"expected {len(expected)} JSON lines, got {len(lines)}")
        return 1
    bad = 0
    for line, want in zip(lines, expected):
        if json.loads(line) != want:
            bad += 1
            print("mismatch:\n  want", json.dumps(want, ensure_ascii=False), "\n  got ", line)
    print(f"{len(expected) - bad}/{len(expected)} golden texts match")
    return 1 if bad else 0


def basics(cbir):
    failures = []

    def expect(what, ok):
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        vocab = os.path.join(tmp, "vocab.txt")
        with open(vocab, "w", encoding="utf-8") as f:
            f.write("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n,\nworld\n-\n猫\n")

        code, out, _ = run(cbir, "--vocab", vocab, "--context-length", "6", "Hello, WORLD!", "猫")
        expect("exit code 0", code == 0)
        expect("exact output", out ==
               '{"text": "Hello, WORLD!", "tokens": ["hello", ",", "world", "[UNK]"], '
               '"ids": [2, 4, 5, 6, 1, 3]}\n'
               '{"text": "猫", "tokens": ["猫"], "ids": [2, 8, 3, 0, 0, 0]}\n')

        code, out, _ = run(cbir, "--vocab", vocab, "--", "-hello", "")
        expect("texts after --", code == 0 and [json.loads(l)["tokens"] for l in out.splitlines()]
               == [["-", "hello"], []])
        expect("default context length 52", len(json.loads(out.splitlines()[0])["ids"]) == 52)

        code, out, _ = run(cbir, "--vocab", vocab, "tab\there \"quoted\"")
        expect("JSON escapes", code == 0 and json.loads(out)["text"] == "tab\there \"quoted\"")

        # Invalid UTF-8 in an argument: a clear error naming the byte, exit code 1.
        p = subprocess.run([cbir, "tokenize", "--vocab", vocab, b"caf\xc3"], capture_output=True)
        expect("invalid UTF-8 refused",
               p.returncode == 1 and b"invalid UTF-8 at byte 3" in p.stderr)

        code, _, err = run(cbir, "--vocab", os.path.join(tmp, "nope.txt"), "x")
        expect("missing vocab names the file", code == 1 and "nope.txt" in err)
        code, _, err = run(cbir, "hello")
        expect("--vocab required", code == 2 and "--vocab is required" in err)
        code, _, err = run(cbir, "--vocab", vocab)
        expect("a TEXT required", code == 2 and "TEXT" in err)
        code, _, err = run(cbir, "--vocab", vocab, "--context-length", "1", "x")
        expect("context length checked", code == 2 and "--context-length" in err)
        code, out, _ = run(cbir, "--help")
        expect("help", code == 0 and out.startswith("usage: cbir tokenize"))

    for f in failures:
        print("FAILED:", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[2] == "golden":
        sys.exit(golden(sys.argv[1], os.environ.get("CBIR_GOLDEN_DIR") or sys.argv[3]))
    if len(sys.argv) == 3 and sys.argv[2] == "basics":
        sys.exit(basics(sys.argv[1]))
    sys.exit(__doc__)
