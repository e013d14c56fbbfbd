//! The C ABI of include/cbir.h, declared by hand (no bindgen: no build dependencies). Structs
//! mirror the header field for field; the tests check their sizes against a C compiler's.
#![allow(non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_int, c_void};

pub enum cbir_model_t {}
pub enum cbir_collection_t {}
pub enum cbir_ingest_report_t {}
pub enum cbir_tokenizer_t {}

#[repr(C)]
pub struct cbir_tokenizer_options_t {
    pub version: u32,
    pub lower_case: i32,
}

#[repr(C)]
pub struct cbir_model_options_t {
    pub version: u32,
    pub device: *const c_char,
    pub precision: i32,
    pub threads: i32,
    pub batch_size: i32,
    pub verify_hashes: i32,
    pub exif_orientation: i32,
    pub fast_decode: i32,
    pub max_pixels: u64,
    pub towers: u32,
}

#[repr(C)]
pub struct cbir_model_info_t {
    pub version: u32,
    pub name: *const c_char,
    pub family: *const c_char,
    pub fingerprint: *const c_char,
    pub precision: *const c_char,
    pub device: *const c_char,
    pub path: *const c_char,
    pub dim: i32,
    pub has_image: i32,
    pub has_text: i32,
    pub context_length: i32,
    pub logit_scale: f32,
    pub batch_size: i32,
    pub resize: i32,
    pub image_size: i32,
    pub image_crop: i32,
    pub input_side: i32,
    pub interpolation: i32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub pooling: *const c_char,
    pub compute_precision: *const c_char,
    pub resize_before_rgb: i32,
}

#[repr(C)]
pub struct cbir_pixels_t {
    pub data: *const u8,
    pub width: i32,
    pub height: i32,
    pub stride: usize,
    pub format: i32,
}

#[repr(C)]
pub struct cbir_collection_options_t {
    pub version: u32,
    pub flags: u32,
    pub dim: i32,
    pub fingerprint: *const c_char,
    pub index_spec: *const c_char,
    pub memory_budget_mb: u64,
    pub space: *const c_char,
}

#[repr(C)]
pub struct cbir_item_t {
    pub id: i64,
    pub uri: *const c_char,
    pub content_hash: *const c_char,
    pub size: i64,
    pub mtime: i64,
    pub width: i32,
    pub height: i32,
    pub payload: *const c_char,
}

#[repr(C)]
pub struct cbir_photo_t {
    pub format: *const c_char,
    pub has_taken: i32,
    pub taken: i64,
    pub has_offset: i32,
    pub offset_minutes: i32,
    pub make: *const c_char,
    pub model: *const c_char,
    pub has_location: i32,
    pub lat: f64,
    pub lon: f64,
}

#[repr(C)]
pub struct cbir_attr_t {
    pub id: i64,
    pub key: *const c_char,
    pub type_: i32,
    pub int_value: i64,
    pub float_value: f64,
    pub string_value: *const c_char,
}

#[repr(C)]
pub struct cbir_query_part_t {
    pub kind: i32,
    pub weight: f32,
    pub text: *const c_char,
    pub data: *const c_void,
    pub size: usize,
    pub vector: *const f32,
    pub id: i64,
}

#[repr(C)]
pub struct cbir_search_options_t {
    pub version: u32,
    pub min_score: f32,
    pub uri_prefix: *const c_char,
    pub ids: *const i64,
    pub n_ids: usize,
    pub ef_search: i32,
    pub nprobe: i32,
    pub where_: *const c_char,
    pub space: *const c_char,
}

#[repr(C)]
pub struct cbir_space_vectors_t {
    pub space: *const c_char,
    pub vectors: *const f32,
    pub dim: usize,
}

#[repr(C)]
pub struct cbir_space_info_t {
    pub name: *const c_char,
    pub fingerprint: *const c_char,
    pub index_spec: *const c_char,
    pub effective_spec: *const c_char,
    pub dim: i32,
    pub first: i32,
    pub count: u64,
    pub generation: i64,
}

#[repr(C)]
pub struct cbir_collection_info_t {
    pub path: *const c_char,
    pub fingerprint: *const c_char,
    pub index_spec: *const c_char,
    pub effective_spec: *const c_char,
    pub dim: i32,
    pub read_only: i32,
    pub count: u64,
    pub masked: u64,
    pub seq: i64,
    pub generation: i64,
}

#[repr(C)]
pub struct cbir_ingest_progress_t {
    pub done: u64,
    pub total: u64,
    pub added: u64,
    pub failed: u64,
    pub seconds: f64,
    pub rate: f64,
    pub eta_seconds: f64,
}

pub type cbir_log_fn = Option<unsafe extern "C" fn(user: *mut c_void, level: i32, message: *const c_char)>;

pub type cbir_progress_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, progress: *const cbir_ingest_progress_t) -> c_int>;

#[repr(C)]
pub struct cbir_ingest_options_t {
    pub version: u32,
    pub recursive: i32,
    pub follow_symlinks: i32,
    pub extensions: *const c_char,
    pub workers: i32,
    pub commit_every: i32,
    pub prune: i32,
    pub fast_decode: i32,
    pub progress: cbir_progress_fn,
    pub progress_user: *mut c_void,
}

#[repr(C)]
pub struct cbir_ingest_summary_t {
    pub version: u32,
    pub found: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub duplicates: u64,
    pub failed: u64,
    pub removed: u64,
    pub cancelled: i32,
    pub seconds: f64,
    pub filled: u64,
}

pub const CBIR_TOWER_IMAGE: u32 = 0x1;
pub const CBIR_TOWER_TEXT: u32 = 0x2;
pub const CBIR_OPEN_CREATE: u32 = 0x1;
pub const CBIR_OPEN_READONLY: u32 = 0x2;
pub const CBIR_SCORE_ANY: f32 = -1.0e30;

extern "C" {
    pub fn cbir_version_number() -> i32;
    pub fn cbir_version_string() -> *const c_char;
    pub fn cbir_status_str(status: c_int) -> *const c_char;
    pub fn cbir_last_error() -> *const c_char;
    pub fn cbir_free(ptr: *mut c_void);
    pub fn cbir_build_info() -> *const c_char;
    pub fn cbir_set_log_callback(fn_: cbir_log_fn, user: *mut c_void, min_level: i32);
    pub fn cbir_set_threads(threads: i32) -> c_int;
    pub fn cbir_set_malloc_reuse(on: i32) -> c_int;

    pub fn cbir_tokenizer_options_init(opts: *mut cbir_tokenizer_options_t);
    pub fn cbir_tokenizer_open(
        out: *mut *mut cbir_tokenizer_t,
        vocab_path: *const c_char,
        opts: *const cbir_tokenizer_options_t,
    ) -> c_int;
    pub fn cbir_tokenizer_close(tokenizer: *mut cbir_tokenizer_t);
    pub fn cbir_tokenize(
        ids: *mut i64,
        lengths: *mut i32,
        tokenizer: *const cbir_tokenizer_t,
        texts: *const *const c_char,
        n: usize,
        context_length: usize,
    ) -> c_int;
    pub fn cbir_tokenizer_vocab_size(tokenizer: *const cbir_tokenizer_t) -> usize;
    pub fn cbir_tokenizer_token(tokenizer: *const cbir_tokenizer_t, id: i64) -> *const c_char;
    pub fn cbir_model_tokenizer(out: *mut *const cbir_tokenizer_t, model: *const cbir_model_t) -> c_int;

    pub fn cbir_model_options_init(opts: *mut cbir_model_options_t);
    pub fn cbir_model_open(
        out: *mut *mut cbir_model_t,
        path: *const c_char,
        opts: *const cbir_model_options_t,
    ) -> c_int;
    pub fn cbir_model_close(model: *mut cbir_model_t);
    pub fn cbir_model_info(out: *mut cbir_model_info_t, model: *const cbir_model_t) -> c_int;
    pub fn cbir_model_embed_texts(
        out: *mut f32,
        model: *const cbir_model_t,
        texts: *const *const c_char,
        n: usize,
    ) -> c_int;
    pub fn cbir_model_embed_image_files(
        out: *mut f32,
        statuses: *mut i32,
        model: *const cbir_model_t,
        paths: *const *const c_char,
        n: usize,
    ) -> c_int;
    pub fn cbir_model_embed_image_buffers(
        out: *mut f32,
        statuses: *mut i32,
        model: *const cbir_model_t,
        data: *const *const c_void,
        sizes: *const usize,
        n: usize,
    ) -> c_int;
    pub fn cbir_model_embed_image_pixels(
        out: *mut f32,
        statuses: *mut i32,
        model: *const cbir_model_t,
        images: *const cbir_pixels_t,
        n: usize,
    ) -> c_int;
    pub fn cbir_model_item_error(index: usize) -> *const c_char;
    pub fn cbir_model_classify(
        probs: *mut f32,
        model: *const cbir_model_t,
        image_embedding: *const f32,
        labels: *const *const c_char,
        n_labels: usize,
    ) -> c_int;

    pub fn cbir_collection_options_init_size(opts: *mut cbir_collection_options_t, size: usize);
    pub fn cbir_search_options_init_size(opts: *mut cbir_search_options_t, size: usize);
    pub fn cbir_collection_add_space(
        coll: *mut cbir_collection_t,
        name: *const c_char,
        dim: i32,
        fingerprint: *const c_char,
        index_spec: *const c_char,
    ) -> c_int;
    pub fn cbir_collection_add_spaces(
        out_ids: *mut i64,
        coll: *mut cbir_collection_t,
        items: *const cbir_item_t,
        n: usize,
        spaces: *const cbir_space_vectors_t,
        n_spaces: usize,
        upsert: i32,
    ) -> c_int;
    pub fn cbir_collection_set_space_vectors(
        coll: *mut cbir_collection_t,
        space: *const c_char,
        ids: *const i64,
        vectors: *const f32,
        n: usize,
        dim: usize,
    ) -> c_int;
    pub fn cbir_collection_get_space_vector(
        out: *mut f32,
        dim: usize,
        coll: *const cbir_collection_t,
        space: *const c_char,
        id: i64,
    ) -> c_int;
    pub fn cbir_collection_rebuild_space(
        coll: *mut cbir_collection_t,
        space: *const c_char,
        index_spec: *const c_char,
    ) -> c_int;
    pub fn cbir_collection_spaces(
        out: *mut *mut cbir_space_info_t,
        out_n: *mut usize,
        coll: *const cbir_collection_t,
    ) -> c_int;
    pub fn cbir_collection_open(
        out: *mut *mut cbir_collection_t,
        path: *const c_char,
        opts: *const cbir_collection_options_t,
    ) -> c_int;
    pub fn cbir_collection_close(coll: *mut cbir_collection_t);
    pub fn cbir_collection_add(
        out_ids: *mut i64,
        coll: *mut cbir_collection_t,
        items: *const cbir_item_t,
        vectors: *const f32,
        n: usize,
        dim: usize,
    ) -> c_int;
    pub fn cbir_collection_upsert(
        out_ids: *mut i64,
        coll: *mut cbir_collection_t,
        items: *const cbir_item_t,
        vectors: *const f32,
        n: usize,
        dim: usize,
    ) -> c_int;
    pub fn cbir_collection_remove(
        out_removed: *mut usize,
        coll: *mut cbir_collection_t,
        ids: *const i64,
        n: usize,
    ) -> c_int;
    pub fn cbir_collection_remove_uri(coll: *mut cbir_collection_t, uri: *const c_char) -> c_int;
    pub fn cbir_collection_get(
        out: *mut *mut cbir_item_t,
        coll: *const cbir_collection_t,
        id: i64,
    ) -> c_int;
    pub fn cbir_collection_find(
        out_id: *mut i64,
        coll: *const cbir_collection_t,
        uri: *const c_char,
    ) -> c_int;
    pub fn cbir_collection_get_vector(
        out: *mut f32,
        dim: usize,
        coll: *const cbir_collection_t,
        id: i64,
    ) -> c_int;
    pub fn cbir_collection_list(
        out_ids: *mut i64,
        out_n: *mut usize,
        coll: *const cbir_collection_t,
        after_id: i64,
        capacity: usize,
    ) -> c_int;
    pub fn cbir_collection_count(out: *mut u64, coll: *const cbir_collection_t) -> c_int;
    pub fn cbir_collection_search(
        out_ids: *mut i64,
        out_scores: *mut f32,
        coll: *const cbir_collection_t,
        queries: *const f32,
        n_queries: usize,
        dim: usize,
        k: usize,
        opts: *const cbir_search_options_t,
    ) -> c_int;
    pub fn cbir_collection_search_similar(
        out_ids: *mut i64,
        out_scores: *mut f32,
        coll: *const cbir_collection_t,
        id: i64,
        k: usize,
        opts: *const cbir_search_options_t,
    ) -> c_int;
    pub fn cbir_collection_range_search(
        out_ids: *mut *mut i64,
        out_scores: *mut *mut f32,
        out_n: *mut usize,
        coll: *const cbir_collection_t,
        query: *const f32,
        dim: usize,
        min_score: f32,
        opts: *const cbir_search_options_t,
    ) -> c_int;
    pub fn cbir_collection_duplicates(
        out_ids: *mut *mut i64,
        out_offsets: *mut *mut usize,
        out_groups: *mut usize,
        coll: *const cbir_collection_t,
        min_score: f32,
        opts: *const cbir_search_options_t,
        progress: *const c_void,
        progress_user: *mut c_void,
    ) -> c_int;
    pub fn cbir_collection_get_photo(out: *mut *mut cbir_photo_t, coll: *const cbir_collection_t, id: i64) -> c_int;
    pub fn cbir_collection_set_attrs(
        out_changed: *mut usize,
        coll: *mut cbir_collection_t,
        attrs: *const cbir_attr_t,
        n: usize,
    ) -> c_int;
    pub fn cbir_collection_get_attrs(
        out: *mut *mut cbir_attr_t,
        out_n: *mut usize,
        coll: *const cbir_collection_t,
        id: i64,
    ) -> c_int;
    pub fn cbir_query_compose(
        out: *mut f32,
        dim: usize,
        model: *const cbir_model_t,
        coll: *const cbir_collection_t,
        parts: *const cbir_query_part_t,
        n: usize,
    ) -> c_int;
    pub fn cbir_collection_commit(coll: *mut cbir_collection_t) -> c_int;
    pub fn cbir_collection_save(coll: *mut cbir_collection_t) -> c_int;
    pub fn cbir_collection_refresh(coll: *mut cbir_collection_t) -> c_int;
    pub fn cbir_collection_rebuild(coll: *mut cbir_collection_t, index_spec: *const c_char)
        -> c_int;
    pub fn cbir_collection_compact(coll: *mut cbir_collection_t) -> c_int;
    pub fn cbir_collection_verify(coll: *mut cbir_collection_t) -> c_int;
    pub fn cbir_collection_info(
        out: *mut *mut cbir_collection_info_t,
        coll: *const cbir_collection_t,
    ) -> c_int;

    pub fn cbir_ingest_options_init(opts: *mut cbir_ingest_options_t);
    pub fn cbir_ingest_dir(
        out_report: *mut *mut cbir_ingest_report_t,
        coll: *mut cbir_collection_t,
        model: *const cbir_model_t,
        dir: *const c_char,
        opts: *const cbir_ingest_options_t,
    ) -> c_int;
    pub fn cbir_ingest_files(
        out_report: *mut *mut cbir_ingest_report_t,
        coll: *mut cbir_collection_t,
        model: *const cbir_model_t,
        paths: *const *const c_char,
        n: usize,
        opts: *const cbir_ingest_options_t,
    ) -> c_int;
    pub fn cbir_ingest_report_summary(
        out: *mut cbir_ingest_summary_t,
        report: *const cbir_ingest_report_t,
    ) -> c_int;
    pub fn cbir_ingest_report_failures(report: *const cbir_ingest_report_t) -> usize;
    pub fn cbir_ingest_report_failure(
        report: *const cbir_ingest_report_t,
        index: usize,
        out_path: *mut *const c_char,
        out_code: *mut i32,
        out_message: *mut *const c_char,
    ) -> c_int;
    pub fn cbir_ingest_report_free(report: *mut cbir_ingest_report_t);
}
