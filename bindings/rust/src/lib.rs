//! Safe Rust binding of libcbir, an embeddable content-based image retrieval library
//! (Chinese-CLIP and DINOv2 through LibTorch, FAISS indexes, an SQLite catalog).
//!
//! Open a [`Model`] (a bundle folder) and a [`Collection`] (a folder), ingest images, and
//! search them by text in Chinese or English, by image, or by a stored item. Every fallible
//! call returns [`Result`]; handles are freed on `Drop`.
//!
//! ```no_run
//! use cbir::{Collection, CollectionOptions, IngestOptions, Model, SearchOptions};
//!
//! let model = Model::open("models/tiny-bilingual")?;
//! let coll = Collection::open("my-collection", &CollectionOptions::for_model(&model))?;
//! let report = coll.ingest_dir(&model, "examples/data/gallery", IngestOptions::default())?;
//! println!("{} added, {} failed", report.added, report.failed);
//! let query = model.embed_text("红色的圆形")?;
//! for hit in coll.search(&query, 5, &SearchOptions::default())? {
//!     println!("{:.3} {}", hit.score, hit.uri);
//! }
//! # Ok::<(), cbir::Error>(())
//! ```
//!
//! Linking: `build.rs` uses `CBIR_LIB_DIR` (the folder holding `libcbir.so`) when set, else
//! `pkg-config cbir`.

mod attributes;
mod collection;
mod error;
mod ffi;
mod ingest;
mod log;
mod model;
mod spaces;
mod strings;
mod tokenizer;

pub use attributes::{compose_query, AttrValue, Photo, QueryPart};
pub use collection::{Collection, CollectionInfo, CollectionOptions, Hit, Item, SearchOptions};
pub use error::{Error, ErrorKind, Result};
pub use ingest::{Failure, IngestOptions, IngestReport, Progress};
pub use log::{clear_log_handler, set_log_handler, LogLevel};
pub use spaces::{SpaceInfo, SpaceVectors};
pub use model::{Model, ModelInfo, ModelOptions, PixelFormat, Pixels, Precision, Towers};
pub use tokenizer::{Tokenizer, Tokens};

/// The version of the linked libcbir, "MAJOR.MINOR.PATCH".
///
/// ```
/// assert!(cbir::library_version().starts_with("0."));
/// ```
pub fn library_version() -> String {
    unsafe { error::borrowed(ffi::cbir_version_string()) }
}

/// One line describing the library's build (LibTorch, FAISS, CUDA, threads).
pub fn build_info() -> String {
    unsafe { error::borrowed(ffi::cbir_build_info()) }
}

/// Threads for the library's compute kernels, process-wide; 0 = one per core.
///
/// ```
/// let err = cbir::set_threads(-1).unwrap_err();
/// assert_eq!(err.kind(), cbir::ErrorKind::InvalidArgument);
/// ```
pub fn set_threads(threads: i32) -> Result<()> {
    error::check(unsafe { ffi::cbir_set_threads(threads) })
}

/// Whether glibc's malloc keeps large blocks for reuse, process-wide (`cbir_set_malloc_reuse`
/// in cbir.h: on by default once a CPU model opens; several times faster inference, resident
/// memory stays near its peak).
pub fn set_malloc_reuse(on: bool) -> Result<()> {
    error::check(unsafe { ffi::cbir_set_malloc_reuse(on as i32) })
}

#[doc(hidden)]
/// The sizes of the C structs as declared here, for the layout test.
pub fn __struct_sizes() -> Vec<(&'static str, usize)> {
    use std::mem::size_of;
    vec![
        ("cbir_model_options_t", size_of::<ffi::cbir_model_options_t>()),
        ("cbir_model_info_t", size_of::<ffi::cbir_model_info_t>()),
        ("cbir_pixels_t", size_of::<ffi::cbir_pixels_t>()),
        ("cbir_collection_options_t", size_of::<ffi::cbir_collection_options_t>()),
        ("cbir_item_t", size_of::<ffi::cbir_item_t>()),
        ("cbir_search_options_t", size_of::<ffi::cbir_search_options_t>()),
        ("cbir_photo_t", size_of::<ffi::cbir_photo_t>()),
        ("cbir_attr_t", size_of::<ffi::cbir_attr_t>()),
        ("cbir_query_part_t", size_of::<ffi::cbir_query_part_t>()),
        ("cbir_space_vectors_t", size_of::<ffi::cbir_space_vectors_t>()),
        ("cbir_space_info_t", size_of::<ffi::cbir_space_info_t>()),
        ("cbir_collection_info_t", size_of::<ffi::cbir_collection_info_t>()),
        ("cbir_ingest_progress_t", size_of::<ffi::cbir_ingest_progress_t>()),
        ("cbir_ingest_options_t", size_of::<ffi::cbir_ingest_options_t>()),
        ("cbir_ingest_summary_t", size_of::<ffi::cbir_ingest_summary_t>()),
        ("cbir_tokenizer_options_t", size_of::<ffi::cbir_tokenizer_options_t>()),
    ]
}
