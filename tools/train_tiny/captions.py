"""Chinese and English captions for the synthetic pictures, in varied phrasings.

Most captions name the colour and the shape. Some name only the shape or only the colour, and
are true of every picture with that shape (or colour): matching those cannot lean on the other
attribute, which pulls training off the easy plateau where the towers encode colour alone.
"""
import random

FULL, SHAPE_ONLY, COLOUR_ONLY = 0, 1, 2
KIND_WEIGHTS = (0.6, 0.25, 0.15)

TEMPLATES = {
    ("zh", FULL): (
        "{c}的{s}", "{c}{s}", "一个{c}的{s}", "一个{c}{s}", "{c}{s}的图片", "一张{c}{s}的图片",
        "一张有{c}{s}的照片", "画着一个{c}的{s}", "图片里有一个{c}的{s}", "这是一个{c}的{s}",
        "{c}的{s}图案", "{s}，{c}的", "背景上有一个{c}{s}"),
    ("en", FULL): (
        "{c} {s}", "a {c} {s}", "a picture of a {c} {s}", "a photo of a {c} {s}",
        "an image of a {c} {s}", "a drawing of a {c} {s}", "there is a {c} {s}", "the {s} is {c}",
        "a {s} that is {c}", "a {c} {s} on a background", "{c} {s} in the picture"),
    ("zh", SHAPE_ONLY): ("{s}", "一个{s}", "{s}的图片", "一张有{s}的图片", "图片里有一个{s}"),
    ("en", SHAPE_ONLY): ("{s}", "a {s}", "a picture of a {s}", "there is a {s}"),
    ("zh", COLOUR_ONLY): ("{c}的图形", "一个{c}的东西", "{c}的图案"),
    ("en", COLOUR_ONLY): ("something {c}", "a {c} thing", "a {c} figure"),
}


def canonical_zh(colour, shape):
    """The Chinese query the tests and the demo use, e.g. 红色的圆形."""
    return f"{colour.zh[0]}的{shape.zh[0]}"


def canonical_en(colour, shape):
    """The English query the tests and the demo use, e.g. "a red circle"."""
    return _articles(f"a {colour.en[0]} {shape.en[0]}")


def _articles(text):
    """English a/an before a vowel: "a orange" -> "an orange"."""
    words = text.split(" ")
    for i in range(len(words) - 1):
        if words[i].lower() == "a" and words[i + 1][0] in "aeiou":
            words[i] = words[i][0] + "n"
    return " ".join(words)


def _fill(template, lang, c, s):
    text = template.format(c=c, s=s)
    return text if lang == "zh" else _articles(text)


def random_caption(rng: random.Random, colour, shape, lang, kind=FULL):
    """A caption of one picture in `lang` ("zh" or "en") of `kind`, with random phrasing,
    synonyms, capitalisation and final punctuation (the tokenizer lower-cases and splits
    punctuation)."""
    names_c, names_s = (colour.zh, shape.zh) if lang == "zh" else (colour.en, shape.en)
    text = _fill(rng.choice(TEMPLATES[lang, kind]), lang, rng.choice(names_c), rng.choice(names_s))
    if lang == "en" and rng.random() < 0.3:
        text = text[0].upper() + text[1:]
    return text + rng.choice(("", "", "", "。" if lang == "zh" else "."))


def all_captions(colour, shape, kinds=(FULL,)):
    """Every phrasing of one class of the given kinds, without punctuation variants."""
    out = []
    for (lang, kind), templates in TEMPLATES.items():
        if kind in kinds:
            names_c, names_s = (colour.zh, shape.zh) if lang == "zh" else (colour.en, shape.en)
            out += [_fill(t, lang, c, s) for t in templates for c in names_c for s in names_s]
    return list(dict.fromkeys(out))


def every_caption(classes):
    """All captions of every kind of every class (the text the vocab must cover)."""
    return [t for c, s in classes for t in all_captions(c, s, (FULL, SHAPE_ONLY, COLOUR_ONLY))]
