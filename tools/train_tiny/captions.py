"""Chinese and English captions for the synthetic pictures, in varied phrasings."""
import random

ZH_TEMPLATES = (
    "{c}的{s}", "{c}{s}", "一个{c}的{s}", "一个{c}{s}", "{c}{s}的图片", "一张{c}{s}的图片",
    "一张有{c}{s}的照片", "画着一个{c}的{s}", "图片里有一个{c}的{s}", "这是一个{c}的{s}",
    "{c}的{s}图案", "{s}，{c}的", "背景上有一个{c}{s}",
)
EN_TEMPLATES = (
    "{c} {s}", "a {c} {s}", "a picture of a {c} {s}", "a photo of a {c} {s}",
    "an image of a {c} {s}", "a drawing of a {c} {s}", "there is a {c} {s}", "the {s} is {c}",
    "a {s} that is {c}", "a {c} {s} on a background", "{c} {s} in the picture",
)


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


def random_caption(rng: random.Random, colour, shape, lang):
    """A caption of one picture in `lang` ("zh" or "en"), with random phrasing, synonyms,
    capitalisation and final punctuation (the tokenizer lower-cases and splits punctuation)."""
    if lang == "zh":
        text = rng.choice(ZH_TEMPLATES).format(c=rng.choice(colour.zh), s=rng.choice(shape.zh))
        return text + rng.choice(("", "", "", "。"))
    text = _articles(rng.choice(EN_TEMPLATES).format(c=rng.choice(colour.en), s=rng.choice(shape.en)))
    if rng.random() < 0.3:
        text = text[0].upper() + text[1:]
    return text + rng.choice(("", "", "", "."))


def all_captions(colour, shape):
    """Every phrasing of one class without punctuation variants (for vocab building and tests)."""
    out = [t.format(c=c, s=s) for t in ZH_TEMPLATES for c in colour.zh for s in shape.zh]
    out += [_articles(t.format(c=c, s=s)) for t in EN_TEMPLATES for c in colour.en for s in shape.en]
    return out
