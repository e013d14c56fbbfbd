//! Chinese-CLIP's WordPiece tokenizer (`cbir_tokenizer_*`): what a text query becomes.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{check, Result};
use crate::ffi;
use crate::model::Model;
use crate::strings::{c_path, CStrings};

/// A BERT WordPiece vocabulary. [`Tokenizer::open`] gives an owned one (`Tokenizer<'static>`,
/// closed on `Drop`); [`Model::tokenizer`] lends the model's own, which cannot outlive it.
/// `Send + Sync`: cbir allows any number of threads to tokenize with one tokenizer at once.
///
/// ```no_run
/// let tok = cbir::Tokenizer::open("models/tiny-bilingual", true)?;
/// assert_eq!(tok.tokens("红色的圆形")?, ["红", "色", "的", "圆", "形"]);
/// # Ok::<(), cbir::Error>(())
/// ```
pub struct Tokenizer<'a> {
    raw: NonNull<ffi::cbir_tokenizer_t>,
    owned: bool,
    _model: PhantomData<&'a Model>,
}

unsafe impl Send for Tokenizer<'_> {}
unsafe impl Sync for Tokenizer<'_> {}

/// Ids of tokenized texts: `ids[i]` holds `context_length` ids ([CLS], word pieces, [SEP],
/// [PAD]...), `lengths[i]` how many of them are not padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub ids: Vec<Vec<i64>>,
    pub lengths: Vec<usize>,
}

impl Tokenizer<'static> {
    /// Opens a vocab.txt, or a folder holding one (a model bundle). `lower_case` false keeps
    /// case and accents. Errors: `NotFound`, `Io`, `Corrupt`.
    pub fn open<P: AsRef<Path>>(vocab_path: P, lower_case: bool) -> Result<Tokenizer<'static>> {
        let path = c_path(vocab_path.as_ref())?;
        let mut opts = ffi::cbir_tokenizer_options_t { version: 0, lower_case: 0 };
        unsafe { ffi::cbir_tokenizer_options_init(&mut opts) };
        opts.lower_case = lower_case as i32;
        let mut raw = ptr::null_mut();
        check(unsafe { ffi::cbir_tokenizer_open(&mut raw, path.as_ptr(), &opts) })?;
        let raw = NonNull::new(raw).expect("cbir_tokenizer_open returned OK and NULL");
        Ok(Tokenizer { raw, owned: true, _model: PhantomData })
    }
}

impl<'a> Tokenizer<'a> {
    pub(crate) fn borrowed(raw: NonNull<ffi::cbir_tokenizer_t>) -> Tokenizer<'a> {
        Tokenizer { raw, owned: false, _model: PhantomData }
    }

    /// Token ids run from 0 to `vocab_size() - 1`.
    pub fn vocab_size(&self) -> usize {
        unsafe { ffi::cbir_tokenizer_vocab_size(self.raw.as_ptr()) }
    }

    /// The text of a token id ("[CLS]", "##ing"), or None when out of range.
    pub fn token(&self, id: i64) -> Option<String> {
        let s = unsafe { ffi::cbir_tokenizer_token(self.raw.as_ptr(), id) };
        (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
    }

    /// Chinese-CLIP's `tokenize(texts, context_length)`. Errors: `InvalidArgument`
    /// (context_length below 2, a text with a NUL byte).
    pub fn tokenize<S: AsRef<str>>(&self, texts: &[S], context_length: usize) -> Result<Tokens> {
        let texts = CStrings::from_strs(texts, "text")?;
        let mut ids = vec![0i64; texts.len() * context_length];
        let mut lengths = vec![0i32; texts.len()];
        check(unsafe {
            ffi::cbir_tokenize(ids.as_mut_ptr(), lengths.as_mut_ptr(), self.raw.as_ptr(),
                               texts.as_ptr(), texts.len(), context_length)
        })?;
        Ok(Tokens {
            ids: ids.chunks(context_length.max(1)).map(|r| r.to_vec()).collect(),
            lengths: lengths.into_iter().map(|l| l as usize).collect(),
        })
    }

    /// The word pieces of one text, without [CLS], [SEP] and padding (up to 510).
    pub fn tokens(&self, text: &str) -> Result<Vec<String>> {
        let t = self.tokenize(&[text], 512)?;
        Ok(t.ids[0][1..t.lengths[0] - 1].iter().map(|&id| self.token(id).unwrap_or_default()).collect())
    }
}

impl Drop for Tokenizer<'_> {
    fn drop(&mut self) {
        if self.owned {
            unsafe { ffi::cbir_tokenizer_close(self.raw.as_ptr()) }
        }
    }
}

impl std::fmt::Debug for Tokenizer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer").field("vocab_size", &self.vocab_size()).field("owned", &self.owned).finish()
    }
}
