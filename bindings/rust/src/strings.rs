//! Rust strings and paths as the NUL-terminated UTF-8 the C API takes.
use std::ffi::CString;
use std::os::raw::c_char;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Error, Result};

const EINVAL: i32 = -1;

pub(crate) fn c_string(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::new(EINVAL, format!("{} contains a NUL byte: {:?}", what, s)))
}

pub(crate) fn c_path(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::new(EINVAL, format!("path contains a NUL byte: {}", p.display())))
}

pub(crate) fn c_opt(s: Option<&str>, what: &str) -> Result<Option<CString>> {
    s.map(|s| c_string(s, what)).transpose()
}

pub(crate) fn ptr_or_null(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// An owned `const char* const*` array.
pub(crate) struct CStrings {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CStrings {
    pub(crate) fn new(owned: Vec<CString>) -> CStrings {
        let ptrs = owned.iter().map(|s| s.as_ptr()).collect();
        CStrings { _owned: owned, ptrs }
    }

    pub(crate) fn from_strs<S: AsRef<str>>(texts: &[S], what: &str) -> Result<CStrings> {
        Ok(CStrings::new(texts.iter().map(|t| c_string(t.as_ref(), what)).collect::<Result<_>>()?))
    }

    pub(crate) fn from_paths<P: AsRef<Path>>(paths: &[P]) -> Result<CStrings> {
        Ok(CStrings::new(paths.iter().map(|p| c_path(p.as_ref())).collect::<Result<_>>()?))
    }

    pub(crate) fn as_ptr(&self) -> *const *const c_char {
        self.ptrs.as_ptr()
    }

    pub(crate) fn len(&self) -> usize {
        self.ptrs.len()
    }
}
