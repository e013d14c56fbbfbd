"""A pure-Python port of the BERT tokenizer Chinese-CLIP uses (FullTokenizer with
do_lower_case=True, and cn_clip.clip.tokenize), written from its rules with nothing but the
standard library: the reference that lib/text is timed and compared against.

    /usr/bin/python3 reference_tokenizer.py VOCAB GOLDEN_JSONL   # check every golden line

Chinese-CLIP itself cannot be installed here (no PyPI); this port keeps its algorithm and its
Python string handling (str.lower, unicodedata, str.split), which is what costs the time.
"""
import json
import sys
import unicodedata

MAX_CHARS_PER_WORD = 200


def read_vocab(path):
    """Token -> id, id = line number; lines stripped; a repeated token keeps its last id."""
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f):
            vocab[line.strip()] = number
    return vocab


def is_cjk(ch):
    """CJK Unified Ideographs, extensions A-E, compatibility ideographs (not kana, not Hangul)."""
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def is_dropped(ch):
    if ch in "\t\n\r":
        return False
    return ch in "\x00\ufffd" or unicodedata.category(ch) in ("Cc", "Cf")


def is_space(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_tokens(text, lower_case=True):
    """Clean-up, CJK isolation, whitespace split, lower-casing and accents, punctuation split."""
    spaced = []
    for ch in text:
        if is_dropped(ch):
            continue
        if is_space(ch):
            spaced.append(" ")
        elif is_cjk(ch):
            spaced.append(" " + ch + " ")
        else:
            spaced.append(ch)
    words = []
    for token in "".join(spaced).split():
        if lower_case:
            decomposed = unicodedata.normalize("NFD", token.lower())
            token = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        current = []
        for ch in token:
            if is_punctuation(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
    return [w for piece in words for w in piece.split()]


def wordpieces(word, vocab):
    """Greedy longest-match-first split; the whole word is [UNK] when any part fails."""
    if len(word) > MAX_CHARS_PER_WORD:
        return ["[UNK]"]
    pieces = []
    start = 0
    while start < len(word):
        for end in range(len(word), start, -1):
            candidate = word[start:end] if start == 0 else "##" + word[start:end]
            if candidate in vocab:
                pieces.append(candidate)
                start = end
                break
        else:
            return ["[UNK]"]
    return pieces


def tokenize(text, vocab, lower_case=True):
    return [p for w in basic_tokens(text, lower_case) for p in wordpieces(w, vocab)]


def encode(text, vocab, context_length=52):
    """cn_clip.clip.tokenize for one text: [CLS] pieces [SEP], truncated and zero-padded."""
    ids = [vocab[p] for p in tokenize(text, vocab)][:context_length - 2]
    row = [vocab["[CLS]"]] + ids + [vocab["[SEP]"]]
    return row + [0] * (context_length - len(row))


def check_golden(vocab_path, golden_path):
    vocab = read_vocab(vocab_path)
    bad = 0
    with open(golden_path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    for g in lines:
        if tokenize(g["text"], vocab) != g["tokens"] or encode(g["text"], vocab) != g["ids"]:
            bad += 1
            print("mismatch:", json.dumps(g["text"], ensure_ascii=False), file=sys.stderr)
    print(f"reference tokenizer: {len(lines) - bad}/{len(lines)} golden lines match")
    return bad == 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(0 if check_golden(sys.argv[1], sys.argv[2]) else 1)
