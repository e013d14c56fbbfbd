use std::os::raw::c_void;
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::error::{borrowed, check, Error, Result};
use crate::ffi;
use crate::strings::{c_opt, c_path, ptr_or_null, CStrings};
use crate::tokenizer::Tokenizer;

const EINVAL: i32 = -1;

/// Precision the towers compute in (`CBIR_PRECISION_*`). Fp16 needs a CUDA device; Bf16 a CUDA
/// device or a CPU with bf16 instructions; Auto picks Bf16 on such a CPU, else Fp32 (cbir.h).
/// `ModelInfo::compute_precision` says what was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    Fp32 = 0,
    Fp16 = 1,
    Bf16 = 2,
    Auto = 3,
}

/// Which towers `Model::open_with` loads (`CBIR_TOWER_*`): an indexer needs no text tower, a
/// text-search front end no image tower. A tower left out is not loaded, hashed or warmed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Towers {
    /// Every tower the bundle has.
    #[default]
    All,
    Image,
    Text,
}

/// How to open a model (`cbir_model_options_t`); `Default` gives cbir's defaults.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// "auto" (None), "cpu", "cuda" or "cuda:N".
    pub device: Option<String>,
    pub precision: Precision,
    /// > 0: compute threads for the whole process (as `set_threads`); 0 leaves the process setting.
    pub threads: i32,
    /// Images or texts per forward pass; 0 = cbir's default.
    pub batch_size: i32,
    /// Check every file's sha256 against bundle.json when opening.
    pub verify_hashes: bool,
    /// Apply EXIF orientation to images.
    pub exif_orientation: bool,
    /// Decode large JPEGs at a reduced DCT scale (faster, slightly different pixels).
    pub fast_decode: bool,
    /// Refuse images with more pixels; 0 = cbir's default.
    pub max_pixels: u64,
    /// Which towers to load.
    pub towers: Towers,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions {
            device: None,
            precision: Precision::Fp32,
            threads: 0,
            batch_size: 0,
            verify_hashes: true,
            exif_orientation: true,
            fast_decode: false,
            max_pixels: 0,
            towers: Towers::All,
        }
    }
}

/// What a model is (`cbir_model_info_t`, strings copied).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub name: String,
    pub family: String,
    /// "sha256:<hex>": collections remember it to refuse embeddings of another model.
    pub fingerprint: String,
    pub precision: String,
    pub device: String,
    pub path: String,
    pub dim: usize,
    pub has_image: bool,
    pub has_text: bool,
    pub context_length: usize,
    pub logit_scale: f32,
    pub batch_size: usize,
    pub input_side: usize,
    /// What the towers compute in: "fp32", "bf16", "fp16" or "int8".
    pub compute_precision: String,
}

/// The layout of raw pixels given to [`Model::embed_image_pixels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// 3 bytes per pixel.
    Rgb8,
    /// 4 bytes per pixel; alpha is dropped.
    Rgba8,
    /// 1 byte per pixel.
    Gray8,
}

/// Raw 8-bit pixels, top row first, borrowed for the call.
#[derive(Debug, Clone, Copy)]
pub struct Pixels<'a> {
    pub data: &'a [u8],
    pub width: u32,
    pub height: u32,
    /// Bytes from one row to the next; 0 = width * bytes per pixel.
    pub stride: usize,
    pub format: PixelFormat,
}

impl<'a> Pixels<'a> {
    /// The C description, after checking that `data` holds every row it describes (the C side
    /// trusts the sizes it is given).
    fn to_ffi(&self, index: usize) -> Result<ffi::cbir_pixels_t> {
        let (bpp, format) = match self.format {
            PixelFormat::Rgb8 => (3, 0),
            PixelFormat::Rgba8 => (4, 1),
            PixelFormat::Gray8 => (1, 2),
        };
        let row = self.width as usize * bpp;
        let stride = if self.stride == 0 { row } else { self.stride };
        let need = if self.height == 0 { 0 } else { stride * (self.height as usize - 1) + row };
        if stride < row || self.data.len() < need || self.width > i32::MAX as u32 ||
            self.height > i32::MAX as u32
        {
            return Err(Error::new(EINVAL, format!(
                "image {}: {} bytes do not hold {}x{} pixels with stride {}",
                index, self.data.len(), self.width, self.height, stride)));
        }
        Ok(ffi::cbir_pixels_t {
            data: self.data.as_ptr(),
            width: self.width as i32,
            height: self.height as i32,
            stride,
            format,
        })
    }
}

/// A model bundle, loaded (`cbir_model_open`): a folder made by tools/export, or the shipped
/// `models/tiny-bilingual`. Embeddings are L2-normalised `Vec<f32>`s of [`Model::dim`] floats.
///
/// `Model` is `Send + Sync`: cbir allows any number of threads to embed with one model at once.
/// Dropping it closes it.
///
/// ```no_run
/// let model = cbir::Model::open("models/tiny-bilingual")?;
/// let v = model.embed_text("红色的圆形")?;
/// assert_eq!(v.len(), model.dim());
/// # Ok::<(), cbir::Error>(())
/// ```
pub struct Model {
    raw: NonNull<ffi::cbir_model_t>,
    info: ModelInfo,
}

// cbir.h: once opened, every `const cbir_model_t*` function may run on any number of threads
// at once; close (Drop) needs `&mut`/ownership, so it cannot race them.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// Opens the bundle in folder `path` with the default options.
    pub fn open<P: AsRef<Path>>(path: P) -> Result<Model> {
        Model::open_with(path, &ModelOptions::default())
    }

    /// Opens the bundle in folder `path`. Errors: `NotFound`, `Corrupt`, `Unsupported`,
    /// `Model`, `InvalidArgument` (see `cbir_model_open`).
    pub fn open_with<P: AsRef<Path>>(path: P, options: &ModelOptions) -> Result<Model> {
        let path = c_path(path.as_ref())?;
        let device = c_opt(options.device.as_deref(), "device")?;
        let mut opts: ffi::cbir_model_options_t = unsafe { std::mem::zeroed() };
        unsafe { ffi::cbir_model_options_init(&mut opts) };
        opts.device = ptr_or_null(&device);
        opts.precision = options.precision as i32;
        opts.threads = options.threads;
        opts.batch_size = options.batch_size;
        opts.verify_hashes = options.verify_hashes as i32;
        opts.exif_orientation = options.exif_orientation as i32;
        opts.fast_decode = options.fast_decode as i32;
        opts.max_pixels = options.max_pixels;
        opts.towers = match options.towers {
            Towers::All => 0,
            Towers::Image => ffi::CBIR_TOWER_IMAGE,
            Towers::Text => ffi::CBIR_TOWER_TEXT,
        };
        let mut raw = ptr::null_mut();
        check(unsafe { ffi::cbir_model_open(&mut raw, path.as_ptr(), &opts) })?;
        let raw = NonNull::new(raw).expect("cbir_model_open returned OK and NULL");
        let info = read_info(raw)?;
        Ok(Model { raw, info })
    }

    pub(crate) fn as_ptr(&self) -> *const ffi::cbir_model_t {
        self.raw.as_ptr()
    }

    /// What the model is.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Floats per embedding.
    pub fn dim(&self) -> usize {
        self.info.dim
    }

    /// The model's fingerprint ("sha256:<hex>").
    pub fn fingerprint(&self) -> &str {
        &self.info.fingerprint
    }

    /// The bundle's own tokenizer (its vocab.txt and lower-casing), lent for as long as the
    /// model lives. Errors: `Unsupported` without a text tower.
    pub fn tokenizer(&self) -> Result<Tokenizer<'_>> {
        let mut raw = ptr::null();
        check(unsafe { ffi::cbir_model_tokenizer(&mut raw, self.as_ptr()) })?;
        let raw = NonNull::new(raw as *mut _).expect("cbir_model_tokenizer returned OK and NULL");
        Ok(Tokenizer::borrowed(raw))
    }

    /// Embeds texts (Chinese or English) with the text tower. Errors: `Unsupported` without a
    /// text tower, `InvalidArgument` for a text with a NUL byte.
    pub fn embed_texts<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        let texts = CStrings::from_strs(texts, "text")?;
        let mut out = vec![0f32; texts.len() * self.dim()];
        check(unsafe {
            ffi::cbir_model_embed_texts(out.as_mut_ptr(), self.as_ptr(), texts.as_ptr(), texts.len())
        })?;
        Ok(self.rows(out))
    }

    /// One text's embedding.
    pub fn embed_text(&self, text: &str) -> Result<Vec<f32>> {
        Ok(self.embed_texts(&[text])?.remove(0))
    }

    /// Embeds image files with the image tower: one result per file, in order. One bad image
    /// never fails the batch: its entry is its error (`Image` for undecodable data, `NotFound`
    /// for a missing file), naming its index. The outer error is for the whole call
    /// (`Unsupported` without an image tower, `InvalidArgument` for a path with a NUL byte).
    ///
    /// ```no_run
    /// # let model = cbir::Model::open("models/tiny-bilingual")?;
    /// for (path, result) in ["a.jpg", "b.png"].iter().zip(model.embed_image_files(&["a.jpg", "b.png"])?) {
    ///     match result {
    ///         Ok(vector) => println!("{}: {} floats", path, vector.len()),
    ///         Err(e) => println!("{}: {}", path, e),
    ///     }
    /// }
    /// # Ok::<(), cbir::Error>(())
    /// ```
    pub fn embed_image_files<P: AsRef<Path>>(&self, paths: &[P]) -> Result<Vec<Result<Vec<f32>>>> {
        let paths = CStrings::from_paths(paths)?;
        self.embed_images(paths.len(), |out, statuses| unsafe {
            ffi::cbir_model_embed_image_files(out, statuses, self.as_ptr(), paths.as_ptr(), paths.len())
        })
    }

    /// One image file's embedding.
    pub fn embed_image_file<P: AsRef<Path>>(&self, path: P) -> Result<Vec<f32>> {
        self.embed_image_files(&[path])?.remove(0)
    }

    /// Embeds encoded images in memory (JPEG, PNG, WebP, HEIC, ... as `cbir_image_formats()`
    /// lists for the linked libcbir): one result per image, as
    /// [`Model::embed_image_files`].
    pub fn embed_image_buffers<B: AsRef<[u8]>>(&self, images: &[B]) -> Result<Vec<Result<Vec<f32>>>> {
        let data: Vec<*const c_void> = images.iter().map(|b| b.as_ref().as_ptr() as *const c_void).collect();
        let sizes: Vec<usize> = images.iter().map(|b| b.as_ref().len()).collect();
        self.embed_images(images.len(), |out, statuses| unsafe {
            ffi::cbir_model_embed_image_buffers(out, statuses, self.as_ptr(), data.as_ptr(), sizes.as_ptr(), data.len())
        })
    }

    /// Embeds raw pixel images, resized and normalised with the bundle's recipe: one result
    /// per image, as [`Model::embed_image_files`]. A `Pixels` whose data is shorter than it
    /// says fails the whole call (`InvalidArgument`): that is a bug of the caller's.
    pub fn embed_image_pixels(&self, images: &[Pixels<'_>]) -> Result<Vec<Result<Vec<f32>>>> {
        let raw = images.iter().enumerate().map(|(i, p)| p.to_ffi(i)).collect::<Result<Vec<_>>>()?;
        self.embed_images(raw.len(), |out, statuses| unsafe {
            ffi::cbir_model_embed_image_pixels(out, statuses, self.as_ptr(), raw.as_ptr(), raw.len())
        })
    }

    fn embed_images(&self, n: usize, call: impl FnOnce(*mut f32, *mut i32) -> i32) -> Result<Vec<Result<Vec<f32>>>> {
        let mut out = vec![0f32; n * self.dim()];
        let mut statuses = vec![0i32; n];
        check(call(out.as_mut_ptr(), statuses.as_mut_ptr()))?;
        let rows = self.rows(out).into_iter().zip(statuses).enumerate();
        Ok(rows.map(|(i, (row, status))| {
            if status == 0 {
                return Ok(row);
            }
            // Borrowed until the next embed call on this thread: copied before it.
            let message = unsafe { borrowed(ffi::cbir_model_item_error(i)) };
            Err(Error::new(status, format!("image {}: {}", i, message)))
        }).collect())
    }

    /// Zero-shot classification: the probability of each label for an image embedding
    /// (aligned with `labels`, summing to 1).
    pub fn classify<S: AsRef<str>>(&self, image_embedding: &[f32], labels: &[S]) -> Result<Vec<f32>> {
        if image_embedding.len() != self.dim() {
            return Err(Error::new(EINVAL, format!(
                "the image embedding has {} floats; the model's dim is {}",
                image_embedding.len(), self.dim())));
        }
        let labels = CStrings::from_strs(labels, "label")?;
        let mut probs = vec![0f32; labels.len()];
        check(unsafe {
            ffi::cbir_model_classify(probs.as_mut_ptr(), self.as_ptr(), image_embedding.as_ptr(), labels.as_ptr(), labels.len())
        })?;
        Ok(probs)
    }

    fn rows(&self, flat: Vec<f32>) -> Vec<Vec<f32>> {
        flat.chunks(self.dim().max(1)).map(|r| r.to_vec()).collect()
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { ffi::cbir_model_close(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("name", &self.info.name).field("dim", &self.info.dim).finish()
    }
}

fn read_info(raw: NonNull<ffi::cbir_model_t>) -> Result<ModelInfo> {
    let mut i: ffi::cbir_model_info_t = unsafe { std::mem::zeroed() };
    i.version = std::mem::size_of::<ffi::cbir_model_info_t>() as u32;
    if let Err(e) = check(unsafe { ffi::cbir_model_info(&mut i, raw.as_ptr()) }) {
        unsafe { ffi::cbir_model_close(raw.as_ptr()) };
        return Err(e);
    }
    unsafe {
        Ok(ModelInfo {
            name: borrowed(i.name),
            family: borrowed(i.family),
            fingerprint: borrowed(i.fingerprint),
            precision: borrowed(i.precision),
            device: borrowed(i.device),
            path: borrowed(i.path),
            dim: i.dim as usize,
            has_image: i.has_image != 0,
            has_text: i.has_text != 0,
            context_length: i.context_length as usize,
            logit_scale: i.logit_scale,
            batch_size: i.batch_size as usize,
            input_side: i.input_side as usize,
            compute_precision: borrowed(i.compute_precision),
        })
    }
}
