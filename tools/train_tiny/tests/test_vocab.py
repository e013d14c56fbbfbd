from captions import every_caption
from shapes import CLASSES
from vocab import SPECIALS, build_vocab, wordpiece


def caption_vocab():
    return build_vocab(every_caption(CLASSES))


def as_dict(tokens):
    return {t: i for i, t in enumerate(tokens)}


def test_vocab_is_bert_style_and_reproducible():
    tokens = caption_vocab()
    assert tokens[:5] == list(SPECIALS) and tokens[0] == "[PAD]"
    assert len(set(tokens)) == len(tokens)
    assert tokens == caption_vocab()
    assert all(t and t == t.strip() for t in tokens)
    assert len(tokens) < 400  # small: only what the captions need


def test_every_caption_tokenizes_without_unknowns():
    vocab = as_dict(caption_vocab())
    for text in every_caption(CLASSES):
        pieces = wordpiece.tokenize(text.upper() + "。.", vocab)
        assert "[UNK]" not in pieces, text


def test_chinese_splits_by_character_and_english_by_word():
    vocab = as_dict(caption_vocab())
    assert wordpiece.tokenize("红色的圆形", vocab) == ["红", "色", "的", "圆", "形"]
    assert wordpiece.tokenize("A Red Circle.", vocab) == ["a", "red", "circle", "."]
    ids = wordpiece.encode("红色的圆形", vocab, 52)
    assert ids[0] == vocab["[CLS]"] and ids[6] == vocab["[SEP]"] and ids[7:] == [0] * 45


def test_unseen_english_words_fall_back_to_letters():
    vocab = as_dict(caption_vocab())
    assert wordpiece.tokenize("Magenta", vocab) == ["m", "##a", "##g", "##e", "##n", "##t", "##a"]
