use std::os::raw::c_void;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{borrowed, check, Error, Result};
use crate::ffi;
use crate::model::Model;
use crate::strings::{c_opt, c_path, c_string, ptr_or_null};

const EINVAL: i32 = -1;
const EMISMATCH: i32 = -7;

/// How to open a collection (`cbir_collection_options_t`).
#[derive(Debug, Clone, Default)]
pub struct CollectionOptions {
    /// Create the collection when the folder holds none (the parent folder must exist).
    pub create: bool,
    /// Read only: no writer lock; see the writer's commits after [`Collection::refresh`].
    pub read_only: bool,
    /// Floats per vector: required to create; when opening, 0 accepts any.
    pub dim: usize,
    /// The model's fingerprint: required to create; when opening, None skips the check.
    pub fingerprint: Option<String>,
    /// Index used when creating: "auto" (None), "flat", "hnsw[:...]", "ivf[:...]",
    /// "faiss:<factory string>".
    pub index_spec: Option<String>,
    /// Memory budget for "auto", in MiB; 0 = half of the physical memory.
    pub memory_budget_mb: u64,
    /// When creating: the name of the first vector space (None = "default"); see
    /// [`Collection::add_space`] for the others.
    pub space: Option<String>,
}

impl CollectionOptions {
    /// Options that tie the collection to `model` (its dim and fingerprint), creating it when
    /// absent: opening a collection made with another model then fails with `Mismatch`.
    pub fn for_model(model: &Model) -> CollectionOptions {
        CollectionOptions {
            create: true,
            dim: model.dim(),
            fingerprint: Some(model.fingerprint().to_string()),
            ..Default::default()
        }
    }
}

/// An item. As input to add/upsert only `uri` is required (`id` is ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    pub uri: String,
    pub content_hash: String,
    pub size: i64,
    pub mtime: i64,
    pub width: i32,
    pub height: i32,
    /// The caller's own data, e.g. JSON.
    pub payload: String,
}

impl Item {
    /// An item with this uri and no other facts.
    pub fn new(uri: impl Into<String>) -> Item {
        Item { id: -1, uri: uri.into(), ..Default::default() }
    }
}

/// A search result: the item's id and uri, and its cosine similarity to the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: i64,
    pub score: f32,
    pub uri: String,
}

/// Search filters (`cbir_search_options_t`); `Default` means none.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchOptions<'a> {
    /// Results scoring below are dropped.
    pub min_score: Option<f32>,
    /// Only items whose uri starts with this.
    pub uri_prefix: Option<&'a str>,
    /// Only these items.
    pub ids: Option<&'a [i64]>,
    /// hnsw: efSearch for this call; 0 = the index's.
    pub ef_search: i32,
    /// ivf: lists probed for this call; 0 = the index's.
    pub nprobe: i32,
    /// A filter expression (docs/filters.md), e.g. `"width >= 1000 and path like '%/beach/%'"`.
    pub filter: Option<&'a str>,
    /// The vector space searched (None = the collection's first).
    pub space: Option<&'a str>,
}

/// What a collection is (`cbir_collection_info_t`, strings copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionInfo {
    pub path: String,
    pub fingerprint: String,
    pub index_spec: String,
    pub effective_spec: String,
    pub dim: usize,
    pub read_only: bool,
    pub count: u64,
    pub masked: u64,
    pub seq: i64,
    pub generation: i64,
}

/// A collection (`cbir_collection_open`): a folder holding an SQLite catalog and a FAISS index.
///
/// `Collection` is `Send + Sync`: cbir lets searches and reads run on any number of threads
/// at once, also while one thread writes, and serialises the writes of one handle itself.
/// Only one process writes a collection at a time (others get `Locked`). Dropping a writer
/// commits and saves (errors are then only logged: call [`Collection::close`] to see them).
///
/// ```no_run
/// use cbir::{Collection, CollectionOptions, IngestOptions, Model, SearchOptions};
/// let model = Model::open("models/tiny-bilingual")?;
/// let coll = Collection::open("my-collection", &CollectionOptions::for_model(&model))?;
/// coll.ingest_dir(&model, "photos", IngestOptions::default())?;
/// for hit in coll.search(&model.embed_text("a red circle")?, 5, &SearchOptions::default())? {
///     println!("{:.3} {}", hit.score, hit.uri);
/// }
/// # Ok::<(), cbir::Error>(())
/// ```
pub struct Collection {
    raw: NonNull<ffi::cbir_collection_t>,
    dim: usize,
}

// cbir.h: the const functions may run concurrently with each other and with one writer; the
// writing functions are serialised by the handle; close (Drop, close()) takes ownership.
unsafe impl Send for Collection {}
unsafe impl Sync for Collection {}

impl Collection {
    /// Opens (or with `create` makes) the collection in folder `path`. Errors: `NotFound`,
    /// `Locked`, `Mismatch`, `Corrupt`, `InvalidArgument`, ... (see `cbir_collection_open`).
    pub fn open<P: AsRef<Path>>(path: P, options: &CollectionOptions) -> Result<Collection> {
        let path = c_path(path.as_ref())?;
        let fingerprint = c_opt(options.fingerprint.as_deref(), "fingerprint")?;
        let spec = c_opt(options.index_spec.as_deref(), "index_spec")?;
        let space = c_opt(options.space.as_deref(), "space")?;
        let mut opts: ffi::cbir_collection_options_t = unsafe { std::mem::zeroed() };
        unsafe {
            ffi::cbir_collection_options_init_size(&mut opts, std::mem::size_of::<ffi::cbir_collection_options_t>())
        };
        opts.flags = if options.create { ffi::CBIR_OPEN_CREATE } else { 0 } |
            if options.read_only { ffi::CBIR_OPEN_READONLY } else { 0 };
        opts.dim = i32::try_from(options.dim)
            .map_err(|_| Error::new(EINVAL, format!("dim {} is too large", options.dim)))?;
        opts.fingerprint = ptr_or_null(&fingerprint);
        opts.index_spec = ptr_or_null(&spec);
        opts.memory_budget_mb = options.memory_budget_mb;
        opts.space = ptr_or_null(&space);
        let mut raw = ptr::null_mut();
        check(unsafe { ffi::cbir_collection_open(&mut raw, path.as_ptr(), &opts) })?;
        let raw = NonNull::new(raw).expect("cbir_collection_open returned OK and NULL");
        let mut coll = Collection { raw, dim: 0 };
        coll.dim = coll.info()?.dim;
        Ok(coll)
    }

    pub(crate) fn as_ptr(&self) -> *const ffi::cbir_collection_t {
        self.raw.as_ptr()
    }

    /// The writing functions take `cbir_collection_t*`; the handle serialises them.
    pub(crate) fn as_mut_ptr(&self) -> *mut ffi::cbir_collection_t {
        self.raw.as_ptr()
    }

    /// Floats per vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// What the collection is.
    pub fn info(&self) -> Result<CollectionInfo> {
        let mut raw = ptr::null_mut();
        check(unsafe { ffi::cbir_collection_info(&mut raw, self.as_ptr()) })?;
        unsafe {
            let i = &*raw;
            let info = CollectionInfo {
                path: borrowed(i.path),
                fingerprint: borrowed(i.fingerprint),
                index_spec: borrowed(i.index_spec),
                effective_spec: borrowed(i.effective_spec),
                dim: i.dim as usize,
                read_only: i.read_only != 0,
                count: i.count,
                masked: i.masked,
                seq: i.seq,
                generation: i.generation,
            };
            ffi::cbir_free(raw as *mut c_void);
            Ok(info)
        }
    }

    /// The number of items.
    pub fn count(&self) -> Result<u64> {
        let mut n = 0u64;
        check(unsafe { ffi::cbir_collection_count(&mut n, self.as_ptr()) })?;
        Ok(n)
    }

    /// Adds items with their vectors (one per item, `dim` floats each); returns the new ids.
    /// All or nothing: `Exists` when a uri is already there (see [`Collection::upsert`]).
    pub fn add<V: AsRef<[f32]>>(&self, items: &[Item], vectors: &[V]) -> Result<Vec<i64>> {
        self.write(ffi::cbir_collection_add, items, vectors)
    }

    /// As [`Collection::add`], but an item whose uri exists is replaced, keeping its id.
    pub fn upsert<V: AsRef<[f32]>>(&self, items: &[Item], vectors: &[V]) -> Result<Vec<i64>> {
        self.write(ffi::cbir_collection_upsert, items, vectors)
    }

    fn write<V: AsRef<[f32]>>(
        &self,
        f: unsafe extern "C" fn(*mut i64, *mut ffi::cbir_collection_t, *const ffi::cbir_item_t,
                                *const f32, usize, usize) -> i32,
        items: &[Item],
        vectors: &[V],
    ) -> Result<Vec<i64>> {
        if items.len() != vectors.len() {
            return Err(Error::new(EINVAL, format!(
                "{} items but {} vectors", items.len(), vectors.len())));
        }
        let flat = self.flatten(vectors, "vector")?;
        let strings = item_strings(items)?;
        let raw = raw_items(items, &strings);
        let mut ids = vec![0i64; items.len()];
        check(unsafe {
            f(ids.as_mut_ptr(), self.as_mut_ptr(), raw.as_ptr(), flat.as_ptr(), raw.len(), self.dim)
        })?;
        Ok(ids)
    }

    /// A query for the first space is checked against its dim here; another space's by the
    /// library (which knows its dim).
    fn query_of(&self, query: &[f32], options: &SearchOptions<'_>) -> Result<Vec<f32>> {
        if options.space.is_some() {
            Ok(query.to_vec())
        } else {
            self.flatten(&[query], "query")
        }
    }

    fn flatten<V: AsRef<[f32]>>(&self, vectors: &[V], what: &str) -> Result<Vec<f32>> {
        let mut flat = Vec::with_capacity(vectors.len() * self.dim);
        for (i, v) in vectors.iter().enumerate() {
            let v = v.as_ref();
            if v.len() != self.dim {
                return Err(Error::new(EMISMATCH, format!(
                    "{} {} has {} floats; the collection's dim is {}", what, i, v.len(), self.dim)));
            }
            flat.extend_from_slice(v);
        }
        Ok(flat)
    }

    /// Removes the items with these ids; returns how many existed.
    pub fn remove(&self, ids: &[i64]) -> Result<usize> {
        let mut removed = 0usize;
        check(unsafe {
            ffi::cbir_collection_remove(&mut removed, self.as_mut_ptr(), ids.as_ptr(), ids.len())
        })?;
        Ok(removed)
    }

    /// Removes the item with this uri (`NotFound` if there is none).
    pub fn remove_uri(&self, uri: &str) -> Result<()> {
        let uri = c_string(uri, "uri")?;
        check(unsafe { ffi::cbir_collection_remove_uri(self.as_mut_ptr(), uri.as_ptr()) })
    }

    /// The item with this id (`NotFound` if there is none).
    pub fn get(&self, id: i64) -> Result<Item> {
        let mut raw = ptr::null_mut();
        check(unsafe { ffi::cbir_collection_get(&mut raw, self.as_ptr(), id) })?;
        unsafe {
            let r = &*raw;
            let item = Item {
                id: r.id,
                uri: borrowed(r.uri),
                content_hash: borrowed(r.content_hash),
                size: r.size,
                mtime: r.mtime,
                width: r.width,
                height: r.height,
                payload: borrowed(r.payload),
            };
            ffi::cbir_free(raw as *mut c_void);
            Ok(item)
        }
    }

    /// The id of the item with this uri (`NotFound` if there is none).
    pub fn find(&self, uri: &str) -> Result<i64> {
        let uri = c_string(uri, "uri")?;
        let mut id = 0i64;
        check(unsafe { ffi::cbir_collection_find(&mut id, self.as_ptr(), uri.as_ptr()) })?;
        Ok(id)
    }

    /// The stored, L2-normalised vector of an item.
    pub fn vector(&self, id: i64) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.dim];
        check(unsafe { ffi::cbir_collection_get_vector(out.as_mut_ptr(), self.dim, self.as_ptr(), id) })?;
        Ok(out)
    }

    /// Every item id, in increasing order.
    pub fn ids(&self) -> Result<Vec<i64>> {
        let mut all = Vec::new();
        let mut page = vec![0i64; 1024];
        let mut after = -1i64;
        loop {
            let mut n = 0usize;
            check(unsafe {
                ffi::cbir_collection_list(page.as_mut_ptr(), &mut n, self.as_ptr(), after, page.len())
            })?;
            if n == 0 {
                return Ok(all);
            }
            all.extend_from_slice(&page[..n]);
            after = page[n - 1];
        }
    }

    /// The `k` items most similar to `query` (`dim` floats), best first.
    pub fn search(&self, query: &[f32], k: usize, options: &SearchOptions<'_>) -> Result<Vec<Hit>> {
        let query = self.query_of(query, options)?;
        let (opts, _prefix) = search_options(options)?;
        let mut ids = vec![-1i64; k];
        let mut scores = vec![0f32; k];
        check(unsafe {
            ffi::cbir_collection_search(ids.as_mut_ptr(), scores.as_mut_ptr(), self.as_ptr(),
                                        query.as_ptr(), 1, query.len(), k, &opts)
        })?;
        self.hits(&ids, &scores)
    }

    /// "More like this": the `k` items most similar to stored item `id`, itself left out.
    pub fn search_similar(&self, id: i64, k: usize, options: &SearchOptions<'_>) -> Result<Vec<Hit>> {
        let (opts, _prefix) = search_options(options)?;
        let mut ids = vec![-1i64; k];
        let mut scores = vec![0f32; k];
        check(unsafe {
            ffi::cbir_collection_search_similar(ids.as_mut_ptr(), scores.as_mut_ptr(),
                                                self.as_ptr(), id, k, &opts)
        })?;
        self.hits(&ids, &scores)
    }

    /// Every item scoring at least `min_score` against `query`, best first.
    pub fn range_search(&self, query: &[f32], min_score: f32, options: &SearchOptions<'_>) -> Result<Vec<Hit>> {
        let query = self.query_of(query, options)?;
        let (opts, _prefix) = search_options(options)?;
        let (mut ids, mut scores, mut n) = (ptr::null_mut(), ptr::null_mut(), 0usize);
        check(unsafe {
            ffi::cbir_collection_range_search(&mut ids, &mut scores, &mut n, self.as_ptr(),
                                              query.as_ptr(), query.len(), min_score, &opts)
        })?;
        let (ids, scores) = unsafe { (take(ids, n), take(scores, n)) };
        self.hits(&ids, &scores)
    }

    fn hits(&self, ids: &[i64], scores: &[f32]) -> Result<Vec<Hit>> {
        ids.iter()
            .zip(scores)
            .filter(|(&id, s)| id != -1 && s.is_finite())
            .map(|(&id, &score)| Ok(Hit { id, score, uri: self.get(id)?.uri }))
            .collect()
    }

    /// Makes every change so far durable.
    pub fn commit(&self) -> Result<()> {
        check(unsafe { ffi::cbir_collection_commit(self.as_mut_ptr()) })
    }

    /// Commits, then writes the index snapshot so the next open does not replay.
    pub fn save(&self) -> Result<()> {
        check(unsafe { ffi::cbir_collection_save(self.as_mut_ptr()) })
    }

    /// A read-only handle takes in what the writer committed since.
    pub fn refresh(&self) -> Result<()> {
        check(unsafe { ffi::cbir_collection_refresh(self.as_mut_ptr()) })
    }

    /// Rebuilds the index from the stored vectors, optionally as another kind of index.
    pub fn rebuild(&self, index_spec: Option<&str>) -> Result<()> {
        let spec = c_opt(index_spec, "index_spec")?;
        check(unsafe { ffi::cbir_collection_rebuild(self.as_mut_ptr(), ptr_or_null(&spec)) })
    }

    /// Purges removed vectors from the index and checkpoints the catalog.
    pub fn compact(&self) -> Result<()> {
        check(unsafe { ffi::cbir_collection_compact(self.as_mut_ptr()) })
    }

    /// Checks catalog and index (`Corrupt` says what is wrong).
    pub fn verify(&self) -> Result<()> {
        check(unsafe { ffi::cbir_collection_verify(self.as_mut_ptr()) })
    }

    /// Saves a writer's changes, reporting any failure, then closes the collection. Closing
    /// consumes it, so a closed collection cannot be used:
    ///
    /// ```compile_fail
    /// # fn f(coll: cbir::Collection) -> cbir::Result<()> {
    /// coll.close()?;
    /// coll.count()?; // error: use of moved value
    /// # Ok(()) }
    /// ```
    pub fn close(self) -> Result<()> {
        let saved = if self.info()?.read_only { Ok(()) } else { self.save() };
        drop(self);
        saved
    }
}

impl Drop for Collection {
    fn drop(&mut self) {
        unsafe { ffi::cbir_collection_close(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collection").field("dim", &self.dim).finish_non_exhaustive()
    }
}

/// The C strings of items (uri, content hash, payload), which `raw_items` points into.
pub(crate) fn item_strings(items: &[Item]) -> Result<Vec<[std::ffi::CString; 3]>> {
    items
        .iter()
        .map(|it| Ok([c_string(&it.uri, "uri")?, c_string(&it.content_hash, "content_hash")?,
                      c_string(&it.payload, "payload")?]))
        .collect()
}

pub(crate) fn raw_items(items: &[Item], strings: &[[std::ffi::CString; 3]]) -> Vec<ffi::cbir_item_t> {
    items
        .iter()
        .zip(strings)
        .map(|(it, s)| ffi::cbir_item_t {
            id: -1,
            uri: s[0].as_ptr(),
            content_hash: s[1].as_ptr(),
            size: it.size,
            mtime: it.mtime,
            width: it.width,
            height: it.height,
            payload: s[2].as_ptr(),
        })
        .collect()
}

/// Copies `n` values the library allocated, then releases them with cbir_free().
pub(crate) unsafe fn take<T: Copy>(p: *mut T, n: usize) -> Vec<T> {
    let v = if p.is_null() { Vec::new() } else { std::slice::from_raw_parts(p, n).to_vec() };
    ffi::cbir_free(p as *mut c_void);
    v
}

/// The C options for `o`, and the owned strings (prefix, filter, space) they point into.
type OwnedStrings = (Option<std::ffi::CString>, Option<std::ffi::CString>, Option<std::ffi::CString>);
pub(crate) fn search_options(o: &SearchOptions<'_>) -> Result<(ffi::cbir_search_options_t, OwnedStrings)> {
    let prefix = c_opt(o.uri_prefix, "uri_prefix")?;
    let filter = c_opt(o.filter, "filter")?;
    let space = c_opt(o.space, "space")?;
    let mut opts: ffi::cbir_search_options_t = unsafe { std::mem::zeroed() };
    unsafe { ffi::cbir_search_options_init_size(&mut opts, std::mem::size_of::<ffi::cbir_search_options_t>()) };
    if let Some(m) = o.min_score {
        opts.min_score = m;
    }
    opts.uri_prefix = ptr_or_null(&prefix);
    if let Some(ids) = o.ids {
        opts.ids = ids.as_ptr();
        opts.n_ids = ids.len();
    }
    opts.ef_search = o.ef_search;
    opts.nprobe = o.nprobe;
    opts.where_ = ptr_or_null(&filter);
    opts.space = ptr_or_null(&space);
    Ok((opts, (prefix, filter, space)))
}
