//! The library's diagnostics, sent to a Rust closure (`cbir_set_log_callback`).

use std::ffi::CStr;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use crate::ffi;

/// How serious a log message is (`CBIR_LOG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

impl LogLevel {
    fn from_raw(level: i32) -> LogLevel {
        match level {
            i32::MIN..=0 => LogLevel::Debug,
            1 => LogLevel::Info,
            2 => LogLevel::Warn,
            _ => LogLevel::Error,
        }
    }
}

type Handler = Box<dyn Fn(LogLevel, &str) + Send + Sync + 'static>;

// The installed handler, boxed twice so that the C side holds a thin pointer. It is freed only
// after cbir_set_log_callback has replaced it, which waits for calls in flight to return.
static INSTALLED: Mutex<Option<Box<Handler>>> = Mutex::new(None);

unsafe extern "C" fn trampoline(user: *mut c_void, level: i32, message: *const c_char) {
    let handler = &*(user as *const Handler);
    let message = if message.is_null() { "".into() } else { CStr::from_ptr(message).to_string_lossy() };
    // A panic must not unwind into C: it is dropped here.
    let _ = catch_unwind(AssertUnwindSafe(|| handler(LogLevel::from_raw(level), &message)));
}

/// Sends the library's messages at `min_level` and above to `handler`, replacing any handler
/// installed before. The handler may be called from the library's threads, several at once;
/// it must not call `set_log_handler` or `clear_log_handler` itself. A panic in it is caught
/// and the message dropped.
///
/// ```
/// cbir::set_log_handler(cbir::LogLevel::Warn, |level, message| eprintln!("cbir {:?}: {}", level, message));
/// cbir::clear_log_handler();
/// ```
pub fn set_log_handler<F>(min_level: LogLevel, handler: F)
where
    F: Fn(LogLevel, &str) + Send + Sync + 'static,
{
    let boxed: Box<Handler> = Box::new(Box::new(handler));
    let user = &*boxed as *const Handler as *mut c_void;
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    unsafe { ffi::cbir_set_log_callback(Some(trampoline), user, min_level as i32) };
    *installed = Some(boxed); // the previous handler is dropped here, no longer reachable
}

/// Removes the log handler: the library's messages are dropped again.
pub fn clear_log_handler() {
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    unsafe { ffi::cbir_set_log_callback(None, std::ptr::null_mut(), 0) };
    *installed = None;
}
