use std::ffi::CStr;
use std::fmt;
use std::os::raw::{c_char, c_int};

use crate::ffi;

/// What kind of failure an [`Error`] is: the `CBIR_E*` status codes of `cbir.h`, grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `CBIR_EINVAL`: an argument is invalid.
    InvalidArgument,
    /// `CBIR_ENOMEM`.
    OutOfMemory,
    /// `CBIR_EIO`: the operating system refused a file operation.
    Io,
    /// `CBIR_ENOTFOUND`: a file, item or id does not exist.
    NotFound,
    /// `CBIR_EEXIST`: something that must be new already exists.
    Exists,
    /// `CBIR_ECORRUPT`: stored data (bundle, collection) is damaged.
    Corrupt,
    /// `CBIR_EMISMATCH`: model and collection (or vector) do not belong together.
    Mismatch,
    /// `CBIR_ELOCKED`: another process is writing to the collection.
    Locked,
    /// `CBIR_EUNSUPPORTED`: not available in this build or for this object.
    Unsupported,
    /// `CBIR_ECANCELLED`: stopped by the caller.
    Cancelled,
    /// `CBIR_EMODEL`: a model failed to load or produced invalid output.
    Model,
    /// `CBIR_ECLOSED`: the handle was already closed.
    Closed,
    /// `CBIR_EIMAGE_*`: an image could not be decoded (see [`Error::code`] for which reason).
    Image,
    /// `CBIR_EINTERNAL`, or a code this binding does not know.
    Internal,
}

/// A failed cbir call: the status code and cbir's message, which names the file or argument
/// at fault and says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: i32,
    message: String,
}

/// `std::result::Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    /// The raw `CBIR_E*` status code (negative).
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The message: what failed and why.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self.code {
            -1 => ErrorKind::InvalidArgument,
            -2 => ErrorKind::OutOfMemory,
            -3 => ErrorKind::Io,
            -4 => ErrorKind::NotFound,
            -5 => ErrorKind::Exists,
            -6 => ErrorKind::Corrupt,
            -7 => ErrorKind::Mismatch,
            -8 => ErrorKind::Locked,
            -9 => ErrorKind::Unsupported,
            -10 => ErrorKind::Cancelled,
            -11 => ErrorKind::Model,
            -12 => ErrorKind::Closed,
            -25..=-20 => ErrorKind::Image,
            _ => ErrorKind::Internal,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // cbir_status_str() is static text for any code.
        let status = unsafe { borrowed(ffi::cbir_status_str(self.code)) };
        write!(f, "{} ({})", self.message, status)
    }
}

impl std::error::Error for Error {}

/// Turns a status into a Result, fetching cbir_last_error() right after the call on the same
/// thread, as the C API requires.
pub(crate) fn check(status: c_int) -> Result<()> {
    if status == 0 {
        Ok(())
    } else {
        Err(Error::new(status, unsafe { borrowed(ffi::cbir_last_error()) }))
    }
}

/// A borrowed C string copied into a String ("" for NULL).
pub(crate) unsafe fn borrowed(s: *const c_char) -> String {
    if s.is_null() {
        String::new()
    } else {
        CStr::from_ptr(s).to_string_lossy().into_owned()
    }
}
