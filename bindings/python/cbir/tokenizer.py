"""Chinese-CLIP's WordPiece tokenizer (cbir_tokenizer_*): what a text query becomes."""
import os
from ctypes import byref, c_int32, c_int64, c_void_p
from typing import List, Optional, Sequence, Union

from . import _arrays, _native
from ._native import lib
from .errors import ClosedError, Status, check


class Tokenizer:
    """A BERT WordPiece vocabulary, opened from a vocab.txt or a folder holding one (a model
    bundle); `Model.tokenizer` gives a model's own. Safe to share between threads.

    >>> with cbir.Tokenizer("models/tiny-bilingual") as tok:
    ...     tok.tokens("红色的圆形")        # ['红', '色', '的', '圆', '形']
    """

    def __init__(self, vocab_path: Union[str, "os.PathLike[str]"], *, lower_case: bool = True):
        """Opens the vocabulary. lower_case=False keeps case and accents (cased vocabularies).
        Raises NotFoundError, FileIOError, CorruptError."""
        self._handle, self._owner = None, None
        opts = _native.TokenizerOptions()
        lib.cbir_tokenizer_options_init(byref(opts))
        opts.lower_case = int(lower_case)
        handle = c_void_p()
        check(lib.cbir_tokenizer_open(byref(handle), _native.cstr(vocab_path), byref(opts)))
        self._handle = handle

    @classmethod
    def _borrowed(cls, handle, owner) -> "Tokenizer":
        """A tokenizer that belongs to `owner` (a Model): valid while the owner is open."""
        self = cls.__new__(cls)
        self._handle, self._owner = handle, owner
        return self

    @property
    def _ptr(self):
        if self._handle is None or (self._owner is not None and self._owner.closed):
            raise ClosedError(Status.ECLOSED, "the tokenizer (or the model it belongs to) is closed")
        return self._handle

    @property
    def vocab_size(self) -> int:
        """Token ids run from 0 to vocab_size - 1."""
        return lib.cbir_tokenizer_vocab_size(self._ptr)

    def token(self, token_id: int) -> Optional[str]:
        """The text of a token id ("[CLS]", "##ing"), or None when out of range."""
        return _native.text(lib.cbir_tokenizer_token(self._ptr, token_id))

    def tokenize(self, texts: Sequence[str], context_length: int = 52):
        """Chinese-CLIP's tokenize(texts, context_length): (ids, lengths). ids is an
        (n, context_length) int64 array ([CLS], word pieces, [SEP], [PAD]...; lists without
        numpy), lengths[i] row i's length without padding. Raises InvalidArgumentError."""
        texts = list(texts)
        ids = _arrays.Out(c_int64, len(texts), context_length)
        lengths = _arrays.Out(c_int32, len(texts))
        check(lib.cbir_tokenize(ids.ptr, lengths.ptr, self._ptr, _native.cstr_array(texts),
                                len(texts), context_length))
        return ids.rows(), [int(x) for x in lengths.flat()]

    def tokens(self, text: str) -> List[str]:
        """The word pieces of one text, without [CLS], [SEP] and padding (up to 510)."""
        ids, lengths = self.tokenize([text], 512)
        return [self.token(int(i)) for i in list(ids[0])[1:lengths[0] - 1]]

    def close(self) -> None:
        """Releases the tokenizer (a model's own is released with the model). Idempotent."""
        handle, self._handle = self._handle, None
        if handle is not None and self._owner is None:
            lib.cbir_tokenizer_close(handle)

    def __enter__(self) -> "Tokenizer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 -- at interpreter exit the library may be gone
            pass
