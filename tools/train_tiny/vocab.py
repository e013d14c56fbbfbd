"""The tiny model's own small BERT-style vocab.txt, and the tokenizer that reads it.

Tokenization is the project's pure-Python port of Chinese-CLIP's tokenizer
(bench/tokenizer/reference_tokenizer.py, which the C++ tokenizer is tested against), so training
feeds the text tower exactly the ids lib/text will produce at search time.
"""
import os
import string
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench",
                                "tokenizer"))
import reference_tokenizer as wordpiece  # noqa: E402,F401  (re-exported for train/evaluate)

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")  # [PAD] must be id 0
PUNCTUATION = string.punctuation + "，。、！？：；（）"


def build_vocab(texts):
    """Specials; ASCII and CJK punctuation; digits and letters, alone and as ## continuations
    (so any English word still tokenizes, letter by letter, instead of becoming [UNK]); then
    every CJK character and whole English word of `texts`, sorted for reproducibility."""
    letters = string.digits + string.ascii_lowercase
    vocab = list(SPECIALS) + list(PUNCTUATION) + list(letters) + ["##" + c for c in letters]
    seen = set(vocab)
    for word in sorted({w for t in texts for w in wordpiece.basic_tokens(t)}):
        if word not in seen:
            vocab.append(word)
            seen.add(word)
    return vocab


def write_vocab(path, tokens):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(tokens) + "\n")
