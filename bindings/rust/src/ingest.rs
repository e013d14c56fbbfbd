use std::any::Any;
use std::os::raw::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr;

use crate::collection::Collection;
use crate::error::{borrowed, check, Error, Result};
use crate::ffi;
use crate::model::Model;
use crate::strings::{c_opt, c_path, ptr_or_null, CStrings};

/// Where an ingest run stands, given to the progress callback after every batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub added: u64,
    pub failed: u64,
    pub seconds: f64,
    /// Files handled per second.
    pub rate: f64,
    /// Estimated seconds left; None while unknown.
    pub eta_seconds: Option<f64>,
}

/// How to ingest (`cbir_ingest_options_t`). `Default` gives cbir's defaults.
pub struct IngestOptions<'a> {
    /// Folders: descend into sub-folders.
    pub recursive: bool,
    /// Folders: follow symbolic links.
    pub follow_symlinks: bool,
    /// Folders: comma-separated extensions to index; None = cbir's image extensions.
    pub extensions: Option<&'a str>,
    /// Decoding threads; 0 = one per core.
    pub workers: i32,
    /// Commit after this many written items; 0 = cbir's default.
    pub commit_every: i32,
    /// Folders: remove items under the folder whose files are gone.
    pub prune: bool,
    /// Decode large JPEGs at a reduced DCT scale (faster, slightly different pixels).
    pub fast_decode: bool,
    /// Called on the ingesting thread after every batch; return false to cancel (what was
    /// done is kept, and the report says `cancelled`). A panic cancels the run and resumes
    /// once cbir has returned.
    pub progress: Option<&'a mut dyn FnMut(&Progress) -> bool>,
}

impl Default for IngestOptions<'_> {
    fn default() -> Self {
        IngestOptions {
            recursive: true,
            follow_symlinks: false,
            extensions: None,
            workers: 0,
            commit_every: 0,
            prune: false,
            fast_decode: false,
            progress: None,
        }
    }
}

/// A file that could not be indexed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub path: String,
    pub error: Error,
}

/// The outcome of an ingest run.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestReport {
    pub found: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub duplicates: u64,
    pub failed: u64,
    pub removed: u64,
    pub cancelled: bool,
    pub seconds: f64,
    pub failures: Vec<Failure>,
    /// Unchanged items encoded for the vector spaces they lacked.
    pub filled: u64,
}

struct Callback<'a, 'b> {
    f: &'b mut (dyn FnMut(&Progress) -> bool + 'a),
    panic: Option<Box<dyn Any + Send>>,
}

unsafe extern "C" fn on_progress(user: *mut c_void, p: *const ffi::cbir_ingest_progress_t) -> c_int {
    let cb = &mut *(user as *mut Callback);
    if cb.panic.is_some() {
        return 1;
    }
    let p = &*p;
    let progress = Progress {
        done: p.done,
        total: p.total,
        added: p.added,
        failed: p.failed,
        seconds: p.seconds,
        rate: p.rate,
        eta_seconds: if p.eta_seconds < 0.0 { None } else { Some(p.eta_seconds) },
    };
    // A panic must not unwind through C: keep it, cancel, and resume it on the Rust side.
    match panic::catch_unwind(AssertUnwindSafe(|| (cb.f)(&progress))) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(payload) => {
            cb.panic = Some(payload);
            1
        }
    }
}

impl Collection {
    /// Indexes the image files under folder `dir` with the model's image tower. Unchanged
    /// files are skipped; files that cannot be decoded are listed in the report's failures and
    /// never stop the run. Errors: `NotFound` (no such folder), `Mismatch` (the collection was
    /// made with another model), `Unsupported` (read-only), `InvalidArgument`, `Io`, `Model`.
    pub fn ingest_dir<P: AsRef<Path>>(&self, model: &Model, dir: P, options: IngestOptions<'_>) -> Result<IngestReport> {
        let dir = c_path(dir.as_ref())?;
        self.ingest(options, |report, opts| unsafe {
            ffi::cbir_ingest_dir(report, self.as_mut_ptr(), model.as_ptr(), dir.as_ptr(), opts)
        })
    }

    /// Indexes these image files (no extension filter); a missing file is a per-file failure.
    pub fn ingest_files<P: AsRef<Path>>(&self, model: &Model, paths: &[P], options: IngestOptions<'_>) -> Result<IngestReport> {
        let paths = CStrings::from_paths(paths)?;
        self.ingest(options, |report, opts| unsafe {
            ffi::cbir_ingest_files(report, self.as_mut_ptr(), model.as_ptr(), paths.as_ptr(), paths.len(), opts)
        })
    }

    fn ingest(
        &self,
        options: IngestOptions<'_>,
        call: impl FnOnce(*mut *mut ffi::cbir_ingest_report_t, *const ffi::cbir_ingest_options_t) -> c_int,
    ) -> Result<IngestReport> {
        let extensions = c_opt(options.extensions, "extensions")?;
        let mut opts: ffi::cbir_ingest_options_t = unsafe { std::mem::zeroed() };
        unsafe { ffi::cbir_ingest_options_init(&mut opts) };
        opts.recursive = options.recursive as i32;
        opts.follow_symlinks = options.follow_symlinks as i32;
        opts.extensions = ptr_or_null(&extensions);
        opts.workers = options.workers;
        opts.commit_every = options.commit_every;
        opts.prune = options.prune as i32;
        opts.fast_decode = options.fast_decode as i32;
        let mut callback = options.progress.map(|f| Callback { f, panic: None });
        if let Some(cb) = callback.as_mut() {
            opts.progress = Some(on_progress);
            opts.progress_user = cb as *mut Callback as *mut c_void;
        }
        let mut report = ptr::null_mut();
        let status = call(&mut report, &opts);
        let result = check(status).and_then(|_| read_report(report));
        unsafe { ffi::cbir_ingest_report_free(report) };
        if let Some(payload) = callback.and_then(|cb| cb.panic) {
            panic::resume_unwind(payload);
        }
        result
    }
}

fn read_report(report: *const ffi::cbir_ingest_report_t) -> Result<IngestReport> {
    let mut s: ffi::cbir_ingest_summary_t = unsafe { std::mem::zeroed() };
    s.version = std::mem::size_of::<ffi::cbir_ingest_summary_t>() as u32;
    check(unsafe { ffi::cbir_ingest_report_summary(&mut s, report) })?;
    let n = unsafe { ffi::cbir_ingest_report_failures(report) };
    let mut failures = Vec::with_capacity(n);
    for i in 0..n {
        let (mut path, mut code, mut message) = (ptr::null(), 0i32, ptr::null());
        check(unsafe { ffi::cbir_ingest_report_failure(report, i, &mut path, &mut code, &mut message) })?;
        let (path, message) = unsafe { (borrowed(path), borrowed(message)) };
        failures.push(Failure { path, error: Error::new(code, message) });
    }
    Ok(IngestReport {
        found: s.found,
        added: s.added,
        updated: s.updated,
        unchanged: s.unchanged,
        duplicates: s.duplicates,
        failed: s.failed,
        removed: s.removed,
        cancelled: s.cancelled != 0,
        seconds: s.seconds,
        failures,
        filled: s.filled,
    })
}
