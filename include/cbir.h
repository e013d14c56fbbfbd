/*
 * cbir.h -- the C API of cbir, an embeddable content-based image retrieval library.
 *
 * A program opens a model bundle (Chinese-CLIP or DINOv2 exported to TorchScript) and a
 * collection (a folder: SQLite catalog + FAISS index), adds images, and searches them by text
 * (Chinese or English), by image, by a stored item or by a raw vector -- in-process.
 *
 * Conventions (they hold for every declaration below)
 * ---------------------------------------------------
 *  1. Pure C99 with extern "C" guards. Strings are UTF-8, NUL-terminated `const char*`.
 *     Sizes are `size_t`; ids are `int64_t`; vectors are `float`. Enums cross as `int32_t`.
 *  2. Names: functions `cbir_<object>_<verb>`, types `cbir_<noun>_t`, constants `CBIR_*`.
 *  3. Objects are opaque handles; their contents may change between versions.
 *  4. Every fallible call returns an `int` status: CBIR_OK (0) or a negative CBIR_E* code.
 *     Codes are stable: never renumbered, only appended. Out-parameters come first; on
 *     failure an out-handle is set to NULL. cbir_status_str(code) gives a static description.
 *  5. cbir_last_error() gives the message of the last failed call on the calling thread. It is
 *     never NULL (empty after a success) and is valid until the next cbir call on that thread.
 *  6. No C++ exception ever leaves the library, and the library never writes to stdout or
 *     stderr: diagnostics go to the callback installed with cbir_set_log_callback().
 *  7. Every open/create has its close/free; each of them accepts NULL. Memory the library
 *     allocates for the caller is released with cbir_free() and nothing else.
 *  8. Bulk buffers belong to the caller and are row-major: `float[n * dim]` in,
 *     `int64_t ids[n * k]` and `float scores[n * k]` out. Unused result slots are padded with
 *     id -1 and score -INFINITY.
 *  9. A returned `const char*` or pointer that is not freed by the caller is borrowed; its
 *     documentation says how long it lives.
 * 10. Options are structs whose first field is `uint32_t version`. Initialise them with the
 *     matching CBIR_*_OPTIONS_INIT macro or cbir_*_options_init(), which set `version` to the
 *     struct's size as this header declares it; fields are only ever appended, so a program
 *     built against an older header keeps working. Passing NULL means all defaults. Where a
 *     struct has grown, cbir_*_options_init() is a macro passing the caller's sizeof to
 *     cbir_*_options_init_size(), and the function of the old name (what programs built
 *     against the older header call) writes only the fields the older struct had.
 * 11. The version lives in one place: the CBIR_VERSION_* macros, mirrored at run time by
 *     cbir_version_number(). The shared library's SONAME changes with the major version.
 * 12. Only `cbir_*` symbols are exported.
 * 13. Thread safety is stated for each type. Unless stated otherwise, functions on different
 *     handles may run concurrently, and errors are per thread.
 */
#ifndef CBIR_H
#define CBIR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(CBIR_SHARED)
#  if defined(CBIR_BUILDING)
#    define CBIR_API __declspec(dllexport)
#  else
#    define CBIR_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define CBIR_API __attribute__((visibility("default")))
#else
#  define CBIR_API
#endif

/* ---------------------------------------------------------------------------------------- */
/* Version                                                                                   */
/* ---------------------------------------------------------------------------------------- */

#define CBIR_VERSION_MAJOR 0
#define CBIR_VERSION_MINOR 1
#define CBIR_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH, comparable with cbir_version_number(). */
#define CBIR_VERSION_NUMBER \
  (CBIR_VERSION_MAJOR * 10000 + CBIR_VERSION_MINOR * 100 + CBIR_VERSION_PATCH)

/* The version of the library actually linked (compare with CBIR_VERSION_NUMBER). */
CBIR_API int32_t cbir_version_number(void);
/* "MAJOR.MINOR.PATCH"; static storage. */
CBIR_API const char* cbir_version_string(void);

/* ---------------------------------------------------------------------------------------- */
/* Status codes and errors                                                                  */
/* ---------------------------------------------------------------------------------------- */

#define CBIR_OK 0
#define CBIR_EINVAL (-1)        /* an argument is invalid: NULL, out of range, bad UTF-8, ... */
#define CBIR_ENOMEM (-2)        /* out of memory */
#define CBIR_EIO (-3)           /* the operating system refused a file operation */
#define CBIR_ENOTFOUND (-4)     /* a file, item or id does not exist */
#define CBIR_EEXIST (-5)        /* something that must be new already exists */
#define CBIR_ECORRUPT (-6)      /* stored data (bundle, collection) is damaged */
#define CBIR_EMISMATCH (-7)     /* model and collection (or vector) do not belong together */
#define CBIR_ELOCKED (-8)       /* another process is writing to the collection */
#define CBIR_EUNSUPPORTED (-9)  /* not available in this build or for this object */
#define CBIR_ECANCELLED (-10)   /* stopped by the caller's cancellation */
#define CBIR_EMODEL (-11)       /* a model failed to load or produced invalid output */
#define CBIR_ECLOSED (-12)      /* the handle was already closed */
#define CBIR_EIMAGE_FORMAT (-20)     /* not an image, or an image format cbir cannot decode */
#define CBIR_EIMAGE_TRUNCATED (-21)  /* the image data ends early */
#define CBIR_EIMAGE_CORRUPT (-22)    /* the image data is damaged (checksum, invalid stream) */
#define CBIR_EIMAGE_DIMENSIONS (-23) /* zero or impossible width/height in the header */
#define CBIR_EIMAGE_TOO_LARGE (-24)  /* more pixels than the configured limit */
#define CBIR_EIMAGE_EMPTY (-25)      /* a file or buffer of zero bytes */
#define CBIR_EINTERNAL (-99)    /* a bug in cbir: please report it with cbir_last_error() */

/* A static, never-NULL description of a status code ("unknown status" for unknown codes). */
CBIR_API const char* cbir_status_str(int status);

/* The message of the last failed cbir call on this thread: never NULL, "" after a success.
 * Valid until the next cbir call on this thread. */
CBIR_API const char* cbir_last_error(void);

/* Releases memory that a cbir function allocated for the caller. NULL is accepted. */
CBIR_API void cbir_free(void* ptr);

/* ---------------------------------------------------------------------------------------- */
/* Logging                                                                                   */
/* ---------------------------------------------------------------------------------------- */

#define CBIR_LOG_DEBUG 0
#define CBIR_LOG_INFO 1
#define CBIR_LOG_WARN 2
#define CBIR_LOG_ERROR 3

/* Receives the library's diagnostics. May be called from any thread the library uses,
 * concurrently; `message` is borrowed for the duration of the call. */
typedef void (*cbir_log_fn)(void* user, int32_t level, const char* message);

/* Installs (or, with fn == NULL, removes) the process-wide log callback; messages below
 * min_level are dropped. Thread-safe. Without a callback nothing is logged anywhere. */
CBIR_API void cbir_set_log_callback(cbir_log_fn fn, void* user, int32_t min_level);

/* ---------------------------------------------------------------------------------------- */
/* Build features                                                                            */
/* ---------------------------------------------------------------------------------------- */

#define CBIR_FEATURE_CUDA 0x1u      /* compiled against a LibTorch with CUDA */
#define CBIR_FEATURE_OPENMP 0x2u    /* parallel FAISS/LibTorch kernels (OpenMP) */
#define CBIR_FEATURE_TURBOJPEG 0x4u /* JPEG decoded by libjpeg-turbo (Pillow-exact) */
#define CBIR_FEATURE_CPU_BF16 0x8u  /* this CPU computes bf16 in hardware (AVX512-BF16 or
                                       AMX-BF16): CBIR_PRECISION_AUTO picks bf16 on it. A fact
                                       of the machine, read at run time, not of the build;
                                       CBIR_CPU_BF16=0 in the environment clears it */

/* A bitmask of CBIR_FEATURE_* flags describing this build and this CPU. */
CBIR_API uint32_t cbir_features(void);

/* The CPU's instruction-set extensions that the compute kernels use, space-separated, from
 * "avx2 avx512f avx512_vnni avx512_bf16 avx_vnni amx_bf16 amx_int8" (each listed only when the
 * operating system enables it); "" on a CPU with none of them. Static storage. */
CBIR_API const char* cbir_cpu_features(void);

/* The image formats this build decodes, space-separated, from "jpeg png gif bmp tga pnm ico
 * webp tiff heic avif jxl" (ico: icons and cursors). The first seven are always there; webp,
 * tiff and jxl when libcbir was built with libwebp, libtiff and libjxl; heic and avif when it
 * was built with libheif and that libheif has the HEVC and AV1 decoders. A file of a format
 * missing here is refused with CBIR_EIMAGE_FORMAT, its message naming the package to build
 * with. Static storage. */
CBIR_API const char* cbir_image_formats(void);

/* One human-readable line describing the build and the machine as the library sees it:
 * versions of LibTorch and FAISS, CUDA devices, default thread counts. Static storage,
 * computed on the first call. */
CBIR_API const char* cbir_build_info(void);

/* Sets the number of threads used by the library's compute kernels (LibTorch intra-op,
 * FAISS/OpenMP, and OpenBLAS's own pool behind the exact search) for the whole process; 0
 * restores the default (the number of cores). On a machine with few cores the two pools fight
 * when both are large (OpenMP's threads spin after each parallel region); to run a model, use
 * cbir_model_options_t.threads instead, which sizes them for the model's precision.
 * Returns CBIR_EINVAL for a negative count or one above 4096. Call it before heavy work
 * starts. */
CBIR_API int cbir_set_threads(int32_t threads);

/* Whether glibc's malloc keeps large blocks for reuse, for the whole process. On (nonzero):
 * blocks of up to 32 MiB come from the heap instead of fresh memory mappings, and freed memory
 * stays with the process instead of going back to the system. Model inference allocates and
 * frees tens of megabytes per layer; without this every such block is mapped and page-faulted
 * afresh, which made a ViT-B-16 image tower 4x slower on a 2-core machine (bench/README.md).
 * The cost: the process's resident memory stays near its peak. Off (0): glibc's initial
 * thresholds (128 KiB), and the memory kept so far goes back to the system. cbir_model_open() turns it on for CPU models unless the process chose
 * first: by calling this function, or with glibc's malloc settings in the environment
 * (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_MAX_, MALLOC_TOP_PAD_ or
 * glibc.malloc tunables in GLIBC_TUNABLES). Returns CBIR_EUNSUPPORTED where malloc is not
 * glibc's, or is replaced (sanitizers, jemalloc, tcmalloc); the choice is recorded all the
 * same, so cbir_model_open() leaves malloc alone afterwards. */
CBIR_API int cbir_set_malloc_reuse(int32_t on);

/* ---------------------------------------------------------------------------------------- */
/* Tokenizer                                                                                 */
/* ---------------------------------------------------------------------------------------- */

/* The BERT WordPiece tokenizer of Chinese-CLIP's text tower (its FullTokenizer and
 * tokenize(texts, context_length)), for inspecting what a text query becomes. Texts are
 * cleaned (NUL, U+FFFD and control/format characters dropped), split on whitespace, every CJK
 * ideograph made a token of its own, lower-cased with accents stripped (NFD, marks dropped),
 * split at each punctuation character, and cut into the longest word pieces the vocabulary
 * holds ("##" marks a piece that continues a word; a word that cannot be cut, or is longer than
 * 200 characters, becomes [UNK]). Character properties come from utf8proc (Unicode 15 on
 * Debian 12); Python 3.11 knows Unicode 14, so only characters new in Unicode 15 may tokenize
 * differently from Chinese-CLIP there.
 * Thread safety: a tokenizer is immutable once opened; any number of threads may call
 * cbir_tokenize() and the getters on the same tokenizer at once. cbir_tokenizer_close() must not
 * run concurrently with them. */
typedef struct cbir_tokenizer_t cbir_tokenizer_t;

typedef struct cbir_tokenizer_options_t {
  uint32_t version;   /* sizeof(cbir_tokenizer_options_t), set by the _INIT macro/function */
  int32_t lower_case; /* 1 (default): lower-case and strip accents, as Chinese-CLIP does;
                         0: keep case and accents (for cased vocabularies) */
} cbir_tokenizer_options_t;

#define CBIR_TOKENIZER_OPTIONS_INIT { sizeof(cbir_tokenizer_options_t), 1 }
/* Sets *opts to the defaults (as CBIR_TOKENIZER_OPTIONS_INIT). NULL is ignored. */
CBIR_API void cbir_tokenizer_options_init(cbir_tokenizer_options_t* opts);

/* Opens the vocabulary at `vocab_path`: a BERT vocab.txt (one token per line, id = line number,
 * 0-based), or a folder holding one (a model bundle). The vocabulary must contain [CLS], [SEP],
 * [PAD] and [UNK]; their ids are looked up, not assumed. opts may be NULL (defaults).
 * On success *out is a new tokenizer to release with cbir_tokenizer_close(); on failure *out
 * is NULL. Errors: CBIR_EINVAL (NULL argument, bad option), CBIR_ENOTFOUND (no such file, or a
 * folder without vocab.txt), CBIR_EIO (unreadable), CBIR_ECORRUPT (not UTF-8, over 64 MiB, or
 * a special token missing), CBIR_ENOMEM. The message names the file. */
CBIR_API int cbir_tokenizer_open(cbir_tokenizer_t** out, const char* vocab_path,
                                 const cbir_tokenizer_options_t* opts);

/* Releases a tokenizer. NULL is accepted. */
CBIR_API void cbir_tokenizer_close(cbir_tokenizer_t* tokenizer);

/* Tokenizes n UTF-8 texts as Chinese-CLIP's tokenize(texts, context_length) does: row i of
 * ids (context_length ids, rows one after another: ids[n * context_length]) holds [CLS], the
 * text's first context_length - 2 word-piece ids, [SEP], then [PAD] up to the end.
 * lengths[i] (lengths may be NULL) is row i's length without the padding, so a batch can be
 * trimmed to its longest row before it is encoded. An empty text gives [CLS] [SEP].
 * context_length is at least 2 (Chinese-CLIP uses 52). n may be 0 (then ids and texts may be
 * NULL). Errors: CBIR_EINVAL (NULL argument, a NULL text, context_length below 2 or so large
 * that the buffer size overflows, invalid UTF-8: the message names the text's index and the
 * byte offset); ids and lengths are then unspecified. */
CBIR_API int cbir_tokenize(int64_t* ids, int32_t* lengths, const cbir_tokenizer_t* tokenizer,
                           const char* const* texts, size_t n, size_t context_length);

/* The number of tokens in the vocabulary (ids are 0 .. size - 1); 0 for NULL. */
CBIR_API size_t cbir_tokenizer_vocab_size(const cbir_tokenizer_t* tokenizer);

/* The text of token `id` (e.g. "[CLS]", "##ing"), or NULL when tokenizer is NULL or id is out
 * of range. Borrowed from the tokenizer: valid until cbir_tokenizer_close(). */
CBIR_API const char* cbir_tokenizer_token(const cbir_tokenizer_t* tokenizer, int64_t id);

/* @section tokenizer (issue: tokenizer) */

/* ---------------------------------------------------------------------------------------- */
/* Images                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* Decoding and preprocessing exactly as the image encoders see it, without a model: to check
 * files before adding them, and to diff cbir's pixels against a Python pipeline.
 * Formats, recognised by their content (never by the file name): JPEG (libjpeg-turbo, the same
 * pixels as Pillow), PNG, GIF (first frame), BMP (RLE too), TGA, PNM (PBM/PGM/PPM, binary and
 * plain, up to 16 bits) and ICO/CUR (the image Pillow shows); and where the build has their
 * libraries (cbir_image_formats()) WebP, TIFF (first page), HEIC/HEIF and AVIF (primary image,
 * libheif's transforms applied), JPEG XL (README, "Photo formats"). Every image becomes 8-bit
 * RGB as Pillow's convert('RGB') makes it (alpha dropped, not blended; gray replicated; palette
 * expanded; 16-bit samples reduced to their high byte, PNM samples scaled to 8 bits), is turned
 * upright by its EXIF orientation, then resized as torchvision 0.14 resizes PIL images, with
 * Pillow's resampling reproduced bit for bit (resize_before_rgb: in Chinese-CLIP's order).
 * Damaged, truncated, empty, oversized or non-image data is refused with its own CBIR_EIMAGE_*
 * code; the message names the file (or "buffer") and the reason.
 * Thread safety: every function of this section may run concurrently with any other. */

/* How the image is brought to the model's input size. SQUASH: Resize((size, size)), the
 * aspect ratio is not kept (Chinese-CLIP). SHORTER_SIDE_THEN_CENTER_CROP: Resize(size), the
 * shorter side becomes size and the longer int(size * long / short), then CenterCrop(crop),
 * black where the crop reaches past the image (DINOv2). */
#define CBIR_RESIZE_SQUASH 0
#define CBIR_RESIZE_SHORTER_SIDE_THEN_CENTER_CROP 1

#define CBIR_INTERPOLATION_BICUBIC 0  /* Pillow BICUBIC (a = -0.5), antialiased when shrinking */
#define CBIR_INTERPOLATION_BILINEAR 1 /* Pillow BILINEAR, antialiased when shrinking */

typedef struct cbir_preprocess_options_t {
  uint32_t version;         /* sizeof(cbir_preprocess_options_t), set by the _INIT macro/function */
  int32_t resize;           /* CBIR_RESIZE_*; default SQUASH */
  int32_t size;             /* SQUASH: output side; otherwise the shorter side; 1..16384; 224 */
  int32_t crop;             /* SHORTER_SIDE_THEN_CENTER_CROP: output side; 1..16384; 224 */
  int32_t interpolation;    /* CBIR_INTERPOLATION_*; default BICUBIC */
  int32_t exif_orientation; /* nonzero (default): apply the EXIF orientation (JPEG, PNG eXIf) */
  int32_t fast_decode;      /* nonzero: decode a JPEG at the smallest DCT scale (1/2, 1/4, 1/8)
                               that keeps 2 * size pixels on its shorter side, then resample:
                               several times faster on photos, pixels differ slightly (mean
                               under 2 levels); 0 (default): exact */
  uint64_t max_pixels;      /* refuse images with more pixels, checked on the header before
                               anything is allocated; 0 = default (89478485, as Pillow) */
  int32_t resize_before_rgb; /* nonzero: Chinese-CLIP's own order, resize in the file's own
                               mode and convert to RGB after: palette and 1-bit images
                               (Pillow's "P", "1") resize by nearest neighbour, RGBA and LA with
                               premultiplied alpha, the rest as below. 0 (default): convert
                               to RGB first (DINOv2, torchvision pipelines). Only images with
                               a palette or alpha differ. cbir_model_info() says which order a
                               bundle asks for. */
} cbir_preprocess_options_t;

#define CBIR_PREPROCESS_OPTIONS_INIT                                                   \
  { sizeof(cbir_preprocess_options_t), CBIR_RESIZE_SQUASH, 224, 224,                   \
    CBIR_INTERPOLATION_BICUBIC, 1, 0, 0, 0 }
/* Sets *opts to the defaults (as CBIR_PREPROCESS_OPTIONS_INIT). NULL is ignored. */
CBIR_API void cbir_preprocess_options_init(cbir_preprocess_options_t* opts);

/* Decodes the image file at `path` and resizes (and crops) it as opts say; opts may be NULL
 * (Chinese-CLIP's 224 x 224 squash). On success *out_pixels holds *out_height x *out_width x 3
 * bytes, RGB, rows top to bottom (HWC): the pixels an encoder normalises next. Release them
 * with cbir_free(). On failure *out_pixels is NULL and both sizes are 0.
 * Errors: CBIR_EINVAL (NULL argument, bad option), CBIR_ENOTFOUND (no such file), CBIR_EIO
 * (unreadable, a folder), CBIR_EIMAGE_EMPTY (0 bytes), CBIR_EIMAGE_FORMAT (not an image, or a
 * format this build does not decode: the message says which, e.g. SVG, PSD, HTML, text, or a
 * WebP/TIFF/HEIC/AVIF/JPEG XL file where the build lacks that library, naming its package),
 * CBIR_EIMAGE_TRUNCATED (the data ends early), CBIR_EIMAGE_CORRUPT (bad checksum or stream),
 * CBIR_EIMAGE_DIMENSIONS (zero width or height), CBIR_EIMAGE_TOO_LARGE (over max_pixels),
 * CBIR_ENOMEM. */
CBIR_API int cbir_image_preprocess_file(uint8_t** out_pixels, int32_t* out_height,
                                        int32_t* out_width, const char* path,
                                        const cbir_preprocess_options_t* opts);

/* The same for an encoded image in memory: `size` bytes at `data`, borrowed for the call.
 * Messages name the image "buffer". */
CBIR_API int cbir_image_preprocess_buffer(uint8_t** out_pixels, int32_t* out_height,
                                          int32_t* out_width, const void* data, size_t size,
                                          const cbir_preprocess_options_t* opts);

/* Decodes the image file at `path` completely, as embedding it would, and gives its upright
 * size (EXIF orientation applied unless opts turn it off); the pixels are dropped. For checking
 * files before ingesting them: it fails where embedding would fail to decode, with the same
 * codes as cbir_image_preprocess_file(). Of opts only exif_orientation and max_pixels
 * apply. On failure both sizes are 0. */
CBIR_API int cbir_image_probe_file(int32_t* out_height, int32_t* out_width, const char* path,
                                   const cbir_preprocess_options_t* opts);

/* The same for an encoded image in memory (`size` bytes at `data`, borrowed for the call). */
CBIR_API int cbir_image_probe_buffer(int32_t* out_height, int32_t* out_width, const void* data,
                                     size_t size, const cbir_preprocess_options_t* opts);

/* @section image (issue: image path) */

/* ---------------------------------------------------------------------------------------- */
/* Models                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* A model bundle, loaded: a folder made by tools/export holding bundle.json, the TorchScript
 * image and/or text tower and the vocabulary (docs/bundle.md). Chinese-CLIP bundles have both
 * towers; DINOv2 bundles have an image tower only.
 * Thread safety: once cbir_model_open() has returned, every function that takes a
 * `const cbir_model_t*` may be called from any number of threads at once on the same model.
 * cbir_model_close() must not run concurrently with any of them. */
typedef struct cbir_model_t cbir_model_t;

/* Precision the towers compute in, from the same fp32 bundle (weights converted at open;
 * vectors are always returned as fp32, L2-normalised, and stay comparable across precisions:
 * the fingerprint is the bundle's, so one collection takes vectors from any of them).
 * FP32: everywhere. FP16: CUDA only. BF16: CUDA, or a CPU with bf16 instructions
 *   (CBIR_FEATURE_CPU_BF16); elsewhere refused with CBIR_EUNSUPPORTED, since bf16 would run
 *   emulated, slower than fp32. On such a CPU it ran ViT-B-16 images 1.8-2.0x and text
 *   queries 1.8-2.1x faster than FP32 (one and two threads), and agrees with it to a centred
 *   cosine of 0.999 or better (README, "Which precision"). Image towers run wholly in bf16; text
 *   towers run their matrix products in bf16 and the rest in fp32 (autocast), for accuracy.
 * AUTO: BF16 on a CPU with bf16 instructions, FP32 on other CPUs; on CUDA FP32 (FP16 for an fp16
 *   bundle). The `cbir` command uses AUTO by default. The C default stays FP32 so that a program
 *   written against an earlier version gets the same vectors and the same speed it was tested
 *   with; ask for AUTO to get the faster path.
 * int8 is a property of the bundle (exported with --quantize int8, CPU only): such a bundle runs
 * int8 under FP32 or AUTO and refuses BF16/FP16. cbir_model_info_t.compute_precision says what
 * was chosen. */
#define CBIR_PRECISION_FP32 0
#define CBIR_PRECISION_FP16 1
#define CBIR_PRECISION_BF16 2
#define CBIR_PRECISION_AUTO 3

typedef struct cbir_model_options_t {
  uint32_t version;       /* sizeof(cbir_model_options_t), set by the _INIT macro/function */
  const char* device;     /* "auto" (or NULL: CUDA device 0 when usable, else the CPU), "cpu",
                             "cuda", "cuda:N". Borrowed for the duration of cbir_model_open. */
  int32_t precision;      /* CBIR_PRECISION_*; default FP32 (an fp16 bundle implies FP16) */
  int32_t threads;        /* > 0: compute threads for the whole process, split for the CPU
                             model: fp32 gives OpenBLAS (its matrix products) the count and
                             LibTorch/OpenMP 1; int8 and bf16 give LibTorch/OpenMP (oneDNN,
                             where their matrix products run) the count and OpenBLAS 1.
                             Sizing both pools alike made fp32 text queries 4x slower on 2
                             cores. CUDA: as cbir_set_threads(). 0 (default): leave the
                             process setting. An int8 model plans for its count */
  int32_t batch_size;     /* images or texts per forward pass; 0 = default (8) */
  int32_t verify_hashes;  /* nonzero (default): check every file's sha256 against bundle.json
                             when opening (libcrypto, ~1.4 GB/s here: 0.5 s for a 720 MB
                             ViT-B-16 bundle); 0: sizes only */
  int32_t exif_orientation; /* image embedding: nonzero (default) applies EXIF orientation */
  int32_t fast_decode;    /* image embedding: nonzero decodes large JPEGs at a reduced DCT scale
                             (faster, slightly different pixels); 0 (default): exact */
  uint64_t max_pixels;    /* image embedding: refuse images with more pixels (checked before
                             decoding); 0 = default (89478485, as Pillow) */
  uint32_t towers;        /* CBIR_TOWER_* flags: which towers to load; 0 (default): every tower
                             the bundle has. Leaving one out saves its load, hash and memory
                             (indexing needs only the image tower); its functions then fail
                             with CBIR_EUNSUPPORTED. Asking for a tower the bundle lacks:
                             CBIR_EUNSUPPORTED. */
} cbir_model_options_t;

#define CBIR_TOWER_IMAGE 0x1u
#define CBIR_TOWER_TEXT 0x2u

#define CBIR_MODEL_OPTIONS_INIT \
  { sizeof(cbir_model_options_t), NULL, CBIR_PRECISION_FP32, 0, 0, 1, 1, 0, 0, 0 }
/* Sets *opts to the defaults (as CBIR_MODEL_OPTIONS_INIT). NULL is ignored. */
CBIR_API void cbir_model_options_init(cbir_model_options_t* opts);

/* Opens the bundle in folder `path`: validates bundle.json, the files it lists (sizes, and
 * hashes unless opts->verify_hashes is 0) and the fingerprint, loads the towers onto the
 * device, and runs each once on a tiny input to check its output. opts may be NULL.
 * On success *out is a new model to release with cbir_model_close(); on failure *out is NULL.
 * Errors: CBIR_EINVAL (NULL argument, bad option), CBIR_ENOTFOUND (folder, bundle.json or a
 * listed file missing), CBIR_ECORRUPT (bad JSON, a field of the wrong type or range, a size or
 * hash that differs, fingerprint mismatch, a file LibTorch cannot load), CBIR_EUNSUPPORTED
 * (newer format_version, CUDA requested in a CPU-only build or absent, FP16 on the CPU, BF16
 * on a CPU without bf16 instructions, BF16/FP16 for an int8 bundle, an int8 bundle on CUDA), CBIR_EMODEL (a tower's output has the wrong shape or is not finite,
 * or the text tower does not mask padding), CBIR_ENOMEM. The message names the file. */
CBIR_API int cbir_model_open(cbir_model_t** out, const char* path,
                             const cbir_model_options_t* opts);

/* Releases a model. NULL is accepted. */
CBIR_API void cbir_model_close(cbir_model_t* model);

/* What a model is. Strings are borrowed from the model and live until cbir_model_close().
 * Fields are only appended: set `version` to sizeof(cbir_model_info_t) before the call, and
 * the library fills no more than that many bytes. Image fields are 0 (pooling "") without an
 * image tower; context_length is 0 without a text tower. */
typedef struct cbir_model_info_t {
  uint32_t version;          /* set by the caller: sizeof(cbir_model_info_t) */
  const char* name;          /* e.g. "chinese-clip-vit-b-16" */
  const char* family;        /* "chinese-clip", "dinov2", ... */
  const char* fingerprint;   /* "sha256:<hex>": collections remember it to refuse other models */
  const char* precision;     /* the bundle's: "fp32", "int8" or "fp16" */
  const char* device;        /* where it runs: "cpu", "cuda:0", ... */
  const char* path;          /* the bundle folder, as given to cbir_model_open() */
  int32_t dim;               /* floats per embedding */
  int32_t has_image;         /* 1 when the bundle has an image tower */
  int32_t has_text;          /* 1 when the bundle has a text tower */
  int32_t context_length;    /* maximum tokens per text, [CLS] and [SEP] included */
  float logit_scale;         /* zero-shot temperature (exp applied); 0 when absent */
  int32_t batch_size;        /* items per forward pass */
  /* The image tower's preprocessing, in the terms of cbir_preprocess_options_t. */
  int32_t resize;            /* CBIR_RESIZE_* */
  int32_t image_size;        /* SQUASH: output side; otherwise the shorter side's length */
  int32_t image_crop;        /* SHORTER_SIDE_THEN_CENTER_CROP: the centre crop's side */
  int32_t input_side;        /* side of the square the image tower takes */
  int32_t interpolation;     /* CBIR_INTERPOLATION_* */
  float mean[3];             /* per-channel normalisation, RGB */
  float std[3];
  const char* pooling;       /* DINOv2: "cls", "mean_patch" or "mean_all"; "" otherwise */
  const char* compute_precision; /* what the towers compute in, after AUTO: "fp32", "bf16",
                                    "fp16", or "int8" (an int8 bundle) */
  int32_t resize_before_rgb; /* as in cbir_preprocess_options_t: 1 for bundles exported for
                                Chinese-CLIP's own order ("order": "resize_then_rgb") */
} cbir_model_info_t;

/* Fills *out (see cbir_model_info_t). Errors: CBIR_EINVAL (NULL, or out->version outside
 * [sizeof(uint32_t), sizeof(cbir_model_info_t)]). */
CBIR_API int cbir_model_info(cbir_model_info_t* out, const cbir_model_t* model);

/* Embeds n UTF-8 texts with the text tower: out[n * dim], each row L2-normalised. Texts longer
 * than context_length tokens are truncated (as Chinese-CLIP does). n may be 0.
 * Errors: CBIR_EINVAL (NULL, invalid UTF-8: the message names the text's index and the byte
 * offset), CBIR_EUNSUPPORTED (no text tower), CBIR_EMODEL, CBIR_ENOMEM. */
CBIR_API int cbir_model_embed_texts(float* out, const cbir_model_t* model,
                                    const char* const* texts, size_t n);

/* The bundle's tokenizer (its vocab.txt and lower-casing), for cbir_tokenize() and the other
 * cbir_tokenizer_* getters: *out is borrowed from the model and valid until cbir_model_close();
 * never pass it to cbir_tokenizer_close(). Errors: CBIR_EINVAL (NULL), CBIR_EUNSUPPORTED (the
 * bundle has no text tower; *out is then NULL). */
CBIR_API int cbir_model_tokenizer(const cbir_tokenizer_t** out, const cbir_model_t* model);

/* Image batches. Each function fills out[n * dim] (L2-normalised rows) and statuses[n]: CBIR_OK
 * or the code of what went wrong with that item (CBIR_ENOTFOUND, CBIR_EIO, CBIR_EIMAGE_*,
 * CBIR_EINVAL for a bad pixel description). A failed item's row is all zeros and never fails the
 * others: the call returns CBIR_OK once the batch has run, so check statuses. The call itself
 * fails (statuses then unspecified) for CBIR_EINVAL (NULL arrays), CBIR_EUNSUPPORTED (no image
 * tower), CBIR_EMODEL, CBIR_ENOMEM. Work goes in forward passes of batch_size images, decoded
 * just before, so memory stays bounded for any n. */
CBIR_API int cbir_model_embed_image_files(float* out, int32_t* statuses, const cbir_model_t* model,
                                          const char* const* paths, size_t n);
/* Encoded images in memory (JPEG, PNG, ...): data[i] holds sizes[i] bytes, borrowed for the call. */
CBIR_API int cbir_model_embed_image_buffers(float* out, int32_t* statuses,
                                            const cbir_model_t* model, const void* const* data,
                                            const size_t* sizes, size_t n);

/* Raw 8-bit pixels, top row first. */
#define CBIR_PIXELS_RGB8 0  /* 3 bytes per pixel */
#define CBIR_PIXELS_RGBA8 1 /* 4 bytes per pixel; alpha is dropped (as Pillow's convert('RGB')) */
#define CBIR_PIXELS_GRAY8 2 /* 1 byte per pixel */
typedef struct cbir_pixels_t {
  const uint8_t* data; /* borrowed for the call */
  int32_t width;
  int32_t height;
  size_t stride;       /* bytes from one row to the next; 0 = width * bytes per pixel */
  int32_t format;      /* CBIR_PIXELS_* */
} cbir_pixels_t;
/* Raw pixel images, resized and normalised with the bundle's recipe. */
CBIR_API int cbir_model_embed_image_pixels(float* out, int32_t* statuses,
                                           const cbir_model_t* model, const cbir_pixels_t* images,
                                           size_t n);

/* The message for item `index` of the last cbir_model_embed_image_* call on this thread: ""
 * when that item succeeded (or index is out of range). Borrowed; valid until the next
 * cbir_model_embed_image_* call on this thread. Never NULL. */
CBIR_API const char* cbir_model_item_error(size_t index);

/* Already preprocessed images: n blocks of 3 x input_side x input_side floats (channel-major,
 * normalised with the recipe's mean/std) -> out[n * dim], L2-normalised. For callers that do
 * their own preprocessing. Errors: CBIR_EINVAL, CBIR_EUNSUPPORTED (no image tower),
 * CBIR_EMODEL, CBIR_ENOMEM. */
CBIR_API int cbir_model_embed_image_tensors(float* out, const cbir_model_t* model,
                                            const float* pixels, size_t n);

/* Zero-shot classification (Chinese-CLIP): probs[i] = softmax over the labels of
 * logit_scale * cosine(image_embedding, embedding of labels[i]); the probabilities sum to 1.
 * image_embedding holds dim floats (from any cbir_model_embed_image_* call).
 * Errors: CBIR_EINVAL (NULL, n_labels == 0, a zero or non-finite embedding, invalid UTF-8),
 * CBIR_EUNSUPPORTED (no text tower, or the bundle records no logit_scale), CBIR_EMODEL. */
CBIR_API int cbir_model_classify(float* probs, const cbir_model_t* model,
                                 const float* image_embedding, const char* const* labels,
                                 size_t n_labels);

/* @section model (issue: model bundles) */

/* ---------------------------------------------------------------------------------------- */
/* Collections                                                                               */
/* ---------------------------------------------------------------------------------------- */

/* A collection is a folder: an SQLite catalog (WAL mode) that holds the truth -- items, their
 * vectors and the settings -- and a FAISS index derived from it, saved as a checksummed
 * snapshot. Vectors are float[dim]; cbir stores and searches their L2-normalized form, so
 * scores are cosine similarities in [-1, 1] (approximate for sq8/pq codes).
 *
 * Durability: writes go into an open transaction; cbir_collection_commit() makes everything
 * before it durable (SQLite synchronous=FULL: on disk when it returns, power loss included).
 * After a crash the collection holds exactly what was committed. The snapshot is only a
 * cache: whatever the catalog holds past it is replayed on open, and a missing or damaged
 * snapshot is rebuilt from the catalog (a warning is logged), never a failure to open.
 * A writer handle owns one background thread, which copies committed pages from SQLite's log
 * into the catalog file (checkpoints) so that commits wait only for the log; it is joined by
 * cbir_collection_close(). Do not fork() while a writer handle is open.
 *
 * Thread safety: the functions taking a `const cbir_collection_t*` (searches, reads, count,
 * info) may run on any number of threads at once, also while one thread writes through the
 * same handle; the writing functions are serialized by the handle. Only one process (one
 * handle) writes a collection at a time: a second writer gets CBIR_ELOCKED naming the first.
 * Any number of read-only handles, in any process, may be open alongside; they see another
 * process's commits after cbir_collection_refresh(). cbir_collection_close() must not run
 * concurrently with any other call on the handle. */
typedef struct cbir_collection_t cbir_collection_t;

#define CBIR_OPEN_CREATE 0x1u   /* create the collection when the folder holds none */
#define CBIR_OPEN_READONLY 0x2u /* read only: no writer lock; see commits via refresh */

/* A value below every score: "no threshold". */
#define CBIR_SCORE_ANY (-1.0e30f)

typedef struct cbir_collection_options_t {
  uint32_t version;         /* sizeof(cbir_collection_options_t), set by the _INIT macro/function */
  uint32_t flags;           /* CBIR_OPEN_*; default 0: open an existing collection for writing */
  int32_t dim;              /* floats per vector. Required to create; when opening, 0 accepts
                               any and another value must match (else CBIR_EMISMATCH) */
  const char* fingerprint;  /* the model's fingerprint (cbir_model_info_t.fingerprint). Required
                               to create; when opening, NULL skips the check and another value
                               must match (else CBIR_EMISMATCH). Borrowed for the call. */
  const char* index_spec;   /* used when creating; NULL = "auto". Specs (case-insensitive keys):
                                 "flat"  exact search;
                                 "hnsw[:M=32,efConstruction=40,efSearch=64]";
                                 "ivf[:nlist=N,nprobe=N,code=flat|sq8|pq<m>[x<bits>],rerank=R]"
                                   (nlist/nprobe default from the size; rerank re-scores the
                                   k*R best exactly), trained on the stored vectors, so it is
                                   reached through cbir_collection_rebuild();
                                 "faiss:<factory string>" any FAISS index_factory string;
                                 "auto"  flat up to 100,000 vectors, then hnsw within the memory
                                   budget, else ivf with sq8 or pq codes -- decided whenever the
                                   index is built (creation, rebuild). */
  uint64_t memory_budget_mb; /* for "auto"; 0 = half of the physical memory */
  const char* space;        /* when creating: the name of the collection's first vector space
                               (1 to 32 of a-z, 0-9, '_', '-'), e.g. "clip"; NULL = "default".
                               Ignored when opening. Borrowed for the call. */
} cbir_collection_options_t;

#define CBIR_COLLECTION_OPTIONS_INIT \
  { sizeof(cbir_collection_options_t), 0, 0, NULL, NULL, 0, NULL }
/* Sets the first `size` bytes of *opts (size = sizeof *opts as the caller's header declares the
 * struct, at most this header's) to the defaults, as CBIR_COLLECTION_OPTIONS_INIT; `version`
 * becomes that size. NULL is ignored. */
CBIR_API void cbir_collection_options_init_size(cbir_collection_options_t* opts, size_t size);
/* For programs built against headers before `space`: sets the fields before it. */
CBIR_API void cbir_collection_options_init(cbir_collection_options_t* opts);
#define cbir_collection_options_init(opts) cbir_collection_options_init_size((opts), sizeof *(opts))

/* Opens (or with CBIR_OPEN_CREATE creates; the parent folder must exist) the collection in
 * folder `path`, loading its index: the snapshot plus a replay of later commits, or a rebuild
 * from the catalog when the snapshot is missing or damaged. On success *out is a handle to
 * release with cbir_collection_close(); on failure *out is NULL.
 * Errors: CBIR_EINVAL (NULL, bad option or index spec, a spec that needs training on a new
 * collection), CBIR_ENOTFOUND (no collection there and no CBIR_OPEN_CREATE), CBIR_ELOCKED
 * (another writer has it: the message names its process), CBIR_EMISMATCH (dim or fingerprint
 * differ from the collection's), CBIR_ECORRUPT (the catalog is damaged), CBIR_EUNSUPPORTED
 * (made by a newer cbir), CBIR_EIO, CBIR_ENOMEM. */
CBIR_API int cbir_collection_open(cbir_collection_t** out, const char* path,
                                  const cbir_collection_options_t* opts);

/* A writer commits pending changes and saves the index snapshot, then the handle is released
 * (with its writer lock). Failures here are only logged: call cbir_collection_save() first to
 * see them. NULL is accepted. */
CBIR_API void cbir_collection_close(cbir_collection_t* coll);

/* An item. As input (add, upsert), `id` is ignored; uri is required and unique in the
 * collection; content_hash and payload may be NULL (stored as ""); every string is UTF-8 and
 * borrowed for the call. As output (cbir_collection_get) all strings are non-NULL and live in
 * the same allocation as the struct. */
typedef struct cbir_item_t {
  int64_t id;               /* stable: never reused, kept by upsert */
  const char* uri;          /* e.g. the image's path */
  const char* content_hash; /* e.g. a hash of the file's bytes */
  int64_t size;             /* bytes of the file */
  int64_t mtime;            /* the file's modification time in nanoseconds since 1970 (as
                               ingest records it; filters read it so) */
  int32_t width;
  int32_t height;
  const char* payload;      /* the caller's own data, e.g. JSON */
} cbir_item_t;

/* Adds n items with their vectors (vectors[n * dim], finite and non-zero) and writes their new
 * ids to out_ids[n] (out_ids may be NULL). All or nothing. Writer; the items are searchable in
 * this process when it returns and durable after cbir_collection_commit().
 * Errors: CBIR_EINVAL (NULL, empty uri, invalid UTF-8, negative size/width/height, a vector
 * that is NaN/Inf or all zeros, read-only handle), CBIR_EEXIST (a uri is already in the
 * collection or twice in the call: use upsert), CBIR_EMISMATCH (dim differs), CBIR_EIO. */
CBIR_API int cbir_collection_add(int64_t* out_ids, cbir_collection_t* coll,
                                 const cbir_item_t* items, const float* vectors, size_t n,
                                 size_t dim);
/* As cbir_collection_add(), but an item whose uri exists replaces that item (fields and
 * vector), keeping its id; within one call the last item with a uri wins. */
CBIR_API int cbir_collection_upsert(int64_t* out_ids, cbir_collection_t* coll,
                                    const cbir_item_t* items, const float* vectors, size_t n,
                                    size_t dim);

/* Removes the items with these ids; *out_removed (may be NULL) gets how many existed. Ids that
 * do not exist are skipped. Writer. Errors: CBIR_EINVAL (NULL, read-only handle), CBIR_EIO. */
CBIR_API int cbir_collection_remove(size_t* out_removed, cbir_collection_t* coll,
                                    const int64_t* ids, size_t n);
/* Removes the item with this uri. Writer. Errors: CBIR_ENOTFOUND, CBIR_EINVAL, CBIR_EIO. */
CBIR_API int cbir_collection_remove_uri(cbir_collection_t* coll, const char* uri);

/* The item with this id: *out is one allocation to release with cbir_free(). On failure *out
 * is NULL. Errors: CBIR_ENOTFOUND, CBIR_EINVAL, CBIR_ECORRUPT, CBIR_EIO. */
CBIR_API int cbir_collection_get(cbir_item_t** out, const cbir_collection_t* coll, int64_t id);
/* The id of the item with this uri. Errors: CBIR_ENOTFOUND, CBIR_EINVAL, CBIR_EIO. */
CBIR_API int cbir_collection_find(int64_t* out_id, const cbir_collection_t* coll,
                                  const char* uri);
/* The stored (normalized) vector of an item into out[dim]. Errors: CBIR_ENOTFOUND,
 * CBIR_EMISMATCH (dim differs), CBIR_EINVAL, CBIR_ECORRUPT, CBIR_EIO. */
CBIR_API int cbir_collection_get_vector(float* out, size_t dim, const cbir_collection_t* coll,
                                        int64_t id);
/* Iteration in id order: up to `capacity` ids greater than after_id into out_ids, their
 * number into *out_n (0 at the end). Start with after_id = -1, continue with the last id. */
CBIR_API int cbir_collection_list(int64_t* out_ids, size_t* out_n, const cbir_collection_t* coll,
                                  int64_t after_id, size_t capacity);
/* The number of items (a reader: as of its last open or refresh). */
CBIR_API int cbir_collection_count(uint64_t* out, const cbir_collection_t* coll);

typedef struct cbir_search_options_t {
  uint32_t version;        /* sizeof(cbir_search_options_t), set by the _INIT macro/function */
  float min_score;         /* results scoring below are dropped; default CBIR_SCORE_ANY */
  const char* uri_prefix;  /* only items whose uri starts with it; NULL = all */
  const int64_t* ids;      /* only these items (n_ids of them); NULL = all. Both filters may be
                              combined; they are applied inside FAISS (an IDSelector). When
                              they leave at most 2048 items, those are searched exactly on
                              their stored vectors instead (an ANN index could miss some). */
  size_t n_ids;
  int32_t ef_search;       /* hnsw: efSearch for this call; 0 = the spec's */
  int32_t nprobe;          /* ivf: lists probed for this call; 0 = the spec's */
  const char* where;       /* a filter expression (docs/filters.md), e.g. "taken >= '2024-06-01'
                              and make = 'Apple' and attr.album = 'Rome'"; NULL = none.
                              Combined with the filters above; the results are the best among
                              the items it selects. A malformed one: CBIR_EINVAL with its
                              position. */
  const char* space;       /* the vector space searched (cbir_collection_add_space()); NULL =
                              the collection's first. Queries and stored items are then of that
                              space's model; items without a vector there are not found.
                              CBIR_ENOTFOUND names the spaces when there is none of the name. */
} cbir_search_options_t;

#define CBIR_SEARCH_OPTIONS_INIT \
  { sizeof(cbir_search_options_t), CBIR_SCORE_ANY, NULL, NULL, 0, 0, 0, NULL, NULL }
/* Sets the first `size` bytes of *opts (sizeof *opts as the caller's header declares it, at most
 * this header's) to the defaults, as CBIR_SEARCH_OPTIONS_INIT; `version` becomes that size. NULL
 * is ignored. */
CBIR_API void cbir_search_options_init_size(cbir_search_options_t* opts, size_t size);
/* For programs built against headers before `space`: sets the fields before it. */
CBIR_API void cbir_search_options_init(cbir_search_options_t* opts);
#define cbir_search_options_init(opts) cbir_search_options_init_size((opts), sizeof *(opts))

/* The k best items for each of n_queries vectors (queries[n_queries * dim]): out_ids and
 * out_scores hold n_queries * k entries, best first, padded with -1 / -INFINITY. Safe from
 * many threads at once, and alongside a writer (which it then sees up to its last call).
 * Errors: CBIR_EINVAL (NULL, k == 0, n_queries * k too large, a query that is NaN/Inf or all
 * zeros, invalid uri_prefix), CBIR_EMISMATCH (dim differs), CBIR_EUNSUPPORTED (a raw FAISS
 * index that cannot filter, after removals: compact it), CBIR_ENOMEM. */
CBIR_API int cbir_collection_search(int64_t* out_ids, float* out_scores,
                                    const cbir_collection_t* coll, const float* queries,
                                    size_t n_queries, size_t dim, size_t k,
                                    const cbir_search_options_t* opts);

/* "More like this": the k items most similar to stored item `id`, leaving `id` itself out.
 * As cbir_collection_search() otherwise; CBIR_ENOTFOUND when there is no such item. */
CBIR_API int cbir_collection_search_similar(int64_t* out_ids, float* out_scores,
                                            const cbir_collection_t* coll, int64_t id, size_t k,
                                            const cbir_search_options_t* opts);

/* Near-duplicates: every item scoring at least min_score against query[dim], best first.
 * *out_ids and *out_scores are new arrays of *out_n entries to release with cbir_free() (NULL
 * when *out_n is 0). Exact for flat, approximate for ANN indexes (hnsw widens a k-NN search).
 * opts->min_score is not used. Errors: as cbir_collection_search(), and CBIR_EINVAL for a
 * non-finite min_score. */
CBIR_API int cbir_collection_range_search(int64_t** out_ids, float** out_scores, size_t* out_n,
                                          const cbir_collection_t* coll, const float* query,
                                          size_t dim, float min_score,
                                          const cbir_search_options_t* opts);

/* Near-duplicate groups: items whose vectors score at least min_score against each other,
 * joined transitively (A~B and B~C make one group {A, B, C}). Each item's 64 nearest
 * neighbours are looked at through the collection's index (exact for flat, approximate for
 * ANN indexes), so memory grows with the number of items, not its square; time is one k-NN
 * search per item. opts (may be NULL) restricts items and neighbours alike (uri_prefix, ids,
 * where) and sets ef_search/nprobe; its min_score is not used. On success *out_ids holds the
 * members of *out_groups groups of two or more: group g is (*out_ids)[(*out_offsets)[g]] up to
 * (*out_offsets)[g + 1] (exclusive), ids ascending, groups by their first id; *out_offsets
 * has *out_groups + 1 entries. Release both with cbir_free() (NULL when there are no groups).
 * `progress` (may be NULL) is called on the calling thread after every 256 items with how many
 * were looked at of how many; returning nonzero cancels (CBIR_ECANCELLED, no groups).
 * Errors: as cbir_collection_search(), CBIR_EINVAL for a non-finite min_score,
 * CBIR_ECANCELLED. */
typedef int (*cbir_count_fn)(void* user, uint64_t done, uint64_t total);
CBIR_API int cbir_collection_duplicates(int64_t** out_ids, size_t** out_offsets,
                                        size_t* out_groups, const cbir_collection_t* coll,
                                        float min_score, const cbir_search_options_t* opts,
                                        cbir_count_fn progress, void* progress_user);

/* Makes every change before it durable. Writer. Errors: CBIR_EIO, CBIR_EINVAL (read-only). */
CBIR_API int cbir_collection_commit(cbir_collection_t* coll);
/* Commits, then writes the index snapshot (atomically) so the next open does not replay.
 * Writer. Errors: CBIR_EIO (the previous snapshot is kept), CBIR_EINVAL (read-only). */
CBIR_API int cbir_collection_save(cbir_collection_t* coll);
/* A reader takes in what other processes committed since its open or last refresh (after a
 * rebuild or compact elsewhere, it loads the new index). A writer has nothing to do. */
CBIR_API int cbir_collection_refresh(cbir_collection_t* coll);
/* Rebuilds the first vector space's index (cbir_collection_rebuild_space() another's) from the
 * stored vectors (no re-encoding) with a new index spec, or the same one when index_spec is NULL; trains IVF indexes. Commits first; searches keep running on
 * the old index meanwhile. Writer. Errors: CBIR_EINVAL (bad spec, too few vectors to train it,
 * read-only), CBIR_EUNSUPPORTED, CBIR_EIO, CBIR_ENOMEM. */
CBIR_API int cbir_collection_rebuild(cbir_collection_t* coll, const char* index_spec);
/* Rebuilds every vector space's index without removed vectors that it could only mask (hnsw,
 * raw FAISS), forgets old removal records and checkpoints the catalog. Commits first. Writer. */
CBIR_API int cbir_collection_compact(cbir_collection_t* coll);
/* Checks the catalog (SQLite integrity_check), every stored vector against its checksum, and
 * that the index holds exactly the catalog's items (`cbir verify` runs it). Vectors written
 * before cbir stored checksums (an older collection, its rows not rewritten since) are not
 * checked. Errors: CBIR_ECORRUPT (the message says what is wrong and what
 * to do), CBIR_EIO. */
CBIR_API int cbir_collection_verify(cbir_collection_t* coll);
/* One finding of cbir_collection_verify_report(): `check` names what was checked ("catalog",
 * "vectors", "snapshot", "index"), `status` is CBIR_OK or its error code, `message` says what is
 * wrong and what to do, or gives a note ("" when there is nothing to say). Borrowed for the
 * call. */
typedef void (*cbir_verify_fn)(void* user, const char* check, int32_t status, const char* message);
/* The checks of cbir_collection_verify(), each reported to `fn` as it ends, all of them run
 * whatever the earlier ones found, except after a damaged catalog (the others read it): the
 * catalog (SQLite's integrity check), every stored vector
 * against its checksum, the index snapshot (its checksum, and that it belongs to the catalog;
 * none saved yet is fine), and that the index holds exactly the catalog's items. Returns
 * CBIR_OK when all pass, else the first failure's code (its message is also
 * cbir_last_error()). `fn` may be NULL. */
CBIR_API int cbir_collection_verify_report(cbir_collection_t* coll, cbir_verify_fn fn, void* user);
/* Writes a consistent copy of the collection to the new folder `dest` while this and other
 * handles and processes keep searching and writing it: every item committed before the call,
 * and perhaps some committed during it; never half of a commit. The copy opens as a collection
 * as it is, and cbir_collection_verify() passes on it. It is made beside `dest` under a hidden
 * name and renamed into place, so `dest` appears whole or not at all. Readers and writers
 * alike may call it. Errors: CBIR_EINVAL (NULL or empty dest), CBIR_EEXIST (dest exists),
 * CBIR_ECORRUPT (the catalog is damaged), CBIR_EIO (with the reason, e.g. a full disk). */
CBIR_API int cbir_collection_backup(const cbir_collection_t* coll, const char* dest);

/* Vector spaces. A collection holds its items' vectors of one model (its first space, made
 * with it) and may hold other models' vectors of the same items beside them, each space with
 * its own index: e.g. "clip" for text search and "same meaning", "dino" for "the same object".
 * Every space's vectors are in the one catalog: an item and its vectors in every space are
 * written, committed, removed and backed up together. */

/* Adds an empty vector space named `name` (1 to 32 of a-z, 0-9, '_', '-') for vectors of `dim`
 * floats from the model with `fingerprint`, indexed as `index_spec` says (NULL = "auto"; as in
 * cbir_collection_options_t). Committed at once, with every change before it. Fill it through
 * cbir_collection_add_spaces() for new items and cbir_collection_set_space_vectors() for
 * those already in. Writer. Errors: CBIR_EINVAL (NULL, a bad name, dim, fingerprint or spec,
 * read-only), CBIR_EEXIST (the name is taken), CBIR_EIO. */
CBIR_API int cbir_collection_add_space(cbir_collection_t* coll, const char* name, int32_t dim,
                                       const char* fingerprint, const char* index_spec);

/* Vectors of n items in one space: vectors[n * dim], as cbir_collection_add() takes them. */
typedef struct cbir_space_vectors_t {
  const char* space;     /* the space's name; NULL = the collection's first space */
  const float* vectors;
  size_t dim;
} cbir_space_vectors_t;

/* As cbir_collection_add() (upsert 0) or cbir_collection_upsert() (upsert 1), with the items'
 * vectors in several spaces: spaces[n_spaces] holds one entry per space given, the first
 * space's included (required). All or nothing. An item replaced by an upsert keeps no vector
 * of its old content: it leaves every space the call does not give.
 * Errors: as cbir_collection_add(), CBIR_ENOTFOUND (no space of a name), CBIR_EINVAL (a space
 * given twice, or the first space missing). */
CBIR_API int cbir_collection_add_spaces(int64_t* out_ids, cbir_collection_t* coll,
                                        const cbir_item_t* items, size_t n,
                                        const cbir_space_vectors_t* spaces, size_t n_spaces,
                                        int32_t upsert);

/* Sets the vectors of n items already in the collection in a space other than the first
 * (vectors[n * dim]): how a space added later is filled. All or nothing; durable after the
 * next commit. Writer. Errors: CBIR_ENOTFOUND (no such space, or an id not in the collection:
 * nothing is written), CBIR_EINVAL (the first space, NULL, a bad vector, read-only),
 * CBIR_EMISMATCH (dim differs from the space's), CBIR_EIO. */
CBIR_API int cbir_collection_set_space_vectors(cbir_collection_t* coll, const char* space,
                                               const int64_t* ids, const float* vectors,
                                               size_t n, size_t dim);

/* The stored vector of item `id` in `space` (NULL = the first) into out[dim].
 * Errors: CBIR_ENOTFOUND (no such space, or the item has no vector there), CBIR_EMISMATCH,
 * CBIR_EINVAL, CBIR_ECORRUPT, CBIR_EIO. */
CBIR_API int cbir_collection_get_space_vector(float* out, size_t dim,
                                              const cbir_collection_t* coll, const char* space,
                                              int64_t id);

/* Rebuilds one space's index, as cbir_collection_rebuild() does the first's (space NULL). */
CBIR_API int cbir_collection_rebuild_space(cbir_collection_t* coll, const char* space,
                                           const char* index_spec);

typedef struct cbir_space_info_t {
  const char* name;
  const char* fingerprint;    /* of the model whose vectors it holds */
  const char* index_spec;     /* as configured */
  const char* effective_spec; /* the index in memory */
  int32_t dim;
  int32_t first;              /* 1 for the collection's first space */
  uint64_t count;             /* items with a vector in this space */
  int64_t generation;         /* its index's rebuilds and compactions so far */
} cbir_space_info_t;

/* Every space, the first one first: *out is an array of *out_n entries, strings included, in
 * one allocation to release with cbir_free(). Errors: CBIR_EINVAL (NULL), CBIR_ENOMEM. */
CBIR_API int cbir_collection_spaces(cbir_space_info_t** out, size_t* out_n,
                                    const cbir_collection_t* coll);

typedef struct cbir_collection_info_t {
  const char* path;
  const char* fingerprint;
  const char* index_spec;     /* as configured, e.g. "auto" */
  const char* effective_spec; /* the index in memory, e.g. "hnsw:M=32,efConstruction=40,..." */
  int32_t dim;
  int32_t read_only;
  uint64_t count;             /* items */
  uint64_t masked;            /* removed vectors still inside the index (compact purges them) */
  int64_t seq;                /* the last change reflected */
  int64_t generation;         /* rebuilds and compactions so far */
} cbir_collection_info_t;

/* What a collection is: *out is one allocation (strings included) to release with cbir_free().
 * Fields are only appended. Errors: CBIR_EINVAL (NULL), CBIR_ENOMEM. */
CBIR_API int cbir_collection_info(cbir_collection_info_t** out, const cbir_collection_t* coll);

/* Photo facts, read from each file when it is indexed (cbir_ingest_dir/_files): its format,
 * and from EXIF (JPEG, HEIC/AVIF, TIFF, PNG eXIf, WebP; not JPEG XL) the capture time, the
 * camera and the GPS position. Filters name them (docs/filters.md). Items added through
 * cbir_collection_add/_upsert have none. A collection made by an older cbir gains the fields
 * when a writer opens it; its items have none until their files change and are indexed again. */
typedef struct cbir_photo_t {
  const char* format;     /* "jpeg", "png", "gif", "bmp", "tga", "pnm", "ico", "webp", "tiff",
                             "heic", "avif", "jxl"; "" when unknown */
  int32_t has_taken;      /* 1 when the file gives a capture time */
  int64_t taken;          /* EXIF DateTimeOriginal (else DateTimeDigitized): the camera clock's
                             wall-clock time, as seconds since 1970-01-01 read as if UTC */
  int32_t has_offset;     /* 1 when the file gives the clock's UTC offset (OffsetTimeOriginal) */
  int32_t offset_minutes; /* minutes east of UTC: UTC time = taken - 60 * offset_minutes */
  const char* make;       /* camera make and model, printable ASCII; "" when absent */
  const char* model;
  int32_t has_location;   /* 1 when the file gives a GPS position */
  double lat;             /* degrees, north positive */
  double lon;             /* degrees, east positive */
} cbir_photo_t;

/* The photo facts of item `id`: *out is one allocation to release with cbir_free(); fields
 * are only appended. Errors: CBIR_ENOTFOUND, CBIR_EINVAL, CBIR_EIO. */
CBIR_API int cbir_collection_get_photo(cbir_photo_t** out, const cbir_collection_t* coll,
                                       int64_t id);

/* User attributes: typed key/value pairs on items, for the caller's own facts (an album, a
 * rating, a person), kept in the catalog and searchable with filters (attr.KEY). A key is 1 to
 * 128 bytes: a letter or '_', then letters, digits, '_', '.' or '-' (case matters); an item
 * holds at most one value per key. Removing an item removes its attributes; upsert keeps them. */
typedef enum cbir_attr_type_t {
  CBIR_ATTR_NONE = 0,   /* in cbir_collection_set_attrs: remove the key from the item */
  CBIR_ATTR_STRING = 1, /* string_value: UTF-8, up to 65,536 bytes */
  CBIR_ATTR_INT = 2,    /* int_value */
  CBIR_ATTR_FLOAT = 3,  /* float_value, finite */
  CBIR_ATTR_BOOL = 4,   /* int_value, 0 or 1 */
  CBIR_ATTR_TIME = 5    /* int_value: seconds since 1970-01-01 UTC */
} cbir_attr_type_t;

typedef struct cbir_attr_t {
  int64_t id;               /* the item */
  const char* key;
  int32_t type;             /* a cbir_attr_type_t */
  int64_t int_value;
  double float_value;
  const char* string_value; /* NULL reads as "" */
} cbir_attr_t;

/* Sets (or with CBIR_ATTR_NONE removes) n attributes, in order: all or nothing. Durable after
 * cbir_collection_commit(), like added items. *out_changed (may be NULL) gets how many changed
 * something (removing a key an item lacks does not). Writer.
 * Errors: CBIR_EINVAL (NULL, bad key, type or value, read-only handle; the message names the
 * entry), CBIR_ENOTFOUND (an id not in the collection), CBIR_EIO. */
CBIR_API int cbir_collection_set_attrs(size_t* out_changed, cbir_collection_t* coll,
                                       const cbir_attr_t* attrs, size_t n);
/* The attributes of item `id`, by key: *out is one allocation of *out_n entries (strings
 * included) to release with cbir_free(); NULL when there are none. Errors: CBIR_ENOTFOUND,
 * CBIR_EINVAL, CBIR_ECORRUPT, CBIR_EIO. */
CBIR_API int cbir_collection_get_attrs(cbir_attr_t** out, size_t* out_n,
                                       const cbir_collection_t* coll, int64_t id);

/* Composite queries: one query vector from several parts, each a text, an image (file or
 * encoded bytes), a stored item or a raw vector, with a weight that may be negative ("a dog"
 * + "beach" - "people"; an image at half weight). The result is
 *     normalize( sum_i weight_i * normalize(vector of part i) )
 * to pass to cbir_collection_search(). */
typedef enum cbir_part_kind_t {
  CBIR_PART_TEXT = 1,         /* text: UTF-8, Chinese or English (the model's text tower) */
  CBIR_PART_IMAGE_FILE = 2,   /* text: the image file's path (the model's image tower) */
  CBIR_PART_IMAGE_BUFFER = 3, /* data, size: an encoded image (JPEG, PNG, ...) */
  CBIR_PART_ITEM = 4,         /* id: an item of the collection, its stored vector */
  CBIR_PART_VECTOR = 5        /* vector: dim floats, any non-zero length */
} cbir_part_kind_t;

typedef struct cbir_query_part_t {
  int32_t kind;        /* a cbir_part_kind_t */
  float weight;        /* finite; negative subtracts; 0 leaves the part out */
  const char* text;    /* TEXT, IMAGE_FILE */
  const void* data;    /* IMAGE_BUFFER */
  size_t size;         /* IMAGE_BUFFER: bytes of data */
  const float* vector; /* VECTOR */
  int64_t id;          /* ITEM */
} cbir_query_part_t;

/* Composes n parts into out[dim]. `model` is needed for text and image parts (its dim must
 * equal dim), `coll` for item parts; either may be NULL otherwise. Borrowed for the call.
 * Errors: CBIR_EINVAL (NULL, no parts, an unknown kind, a weight or vector not finite, a zero
 * vector, parts that cancel out, a part that needs the model or collection when it is NULL;
 * the message names the part), CBIR_EMISMATCH (dim differs from the model's or collection's),
 * CBIR_ENOTFOUND (an item that does not exist), CBIR_EIMAGE_* (an image part), CBIR_EMODEL. */
CBIR_API int cbir_query_compose(float* out, size_t dim, const cbir_model_t* model,
                                const cbir_collection_t* coll, const cbir_query_part_t* parts,
                                size_t n);

/* @section collection (issue: collection) */

/* ---------------------------------------------------------------------------------------- */
/* Ingest: indexing folders and files                                                       */
/* ---------------------------------------------------------------------------------------- */

/* Indexes image files into a collection with a model's image tower. Files are decoded and
 * preprocessed on a pool of worker threads while the calling thread runs batched inference;
 * a bounded queue keeps memory flat however many files there are.
 *  - A file already indexed with the same size and mtime is skipped without being read; one
 *    whose size or mtime changed but whose content (sha256) did not only has its facts updated.
 *  - Content already in the collection under another uri is not encoded again: its vector is
 *    reused. Re-running on an indexed folder is a fast no-op.
 *  - A file that cannot be read or decoded is recorded in the report (path, code, message) and
 *    never stops the run. Every commit_every items are committed, so a run that is killed
 *    resumes without re-encoding what was committed.
 * Item uris are absolute, normalised paths. The model's fingerprint and dimension must match
 * the collection's (CBIR_EMISMATCH otherwise).
 * Thread safety: one ingest at a time per collection (it is a writer); searches on the same
 * collection may run concurrently from other threads. */

typedef struct cbir_ingest_progress_t {
  uint64_t done;       /* files handled so far: added, updated, unchanged, duplicate or failed */
  uint64_t total;      /* files considered in this run */
  uint64_t added;      /* new items so far */
  uint64_t failed;     /* files that could not be indexed so far */
  double seconds;      /* since the run started */
  double rate;         /* files handled per second */
  double eta_seconds;  /* estimated seconds left; -1 while unknown */
} cbir_ingest_progress_t;

/* Called on the ingesting thread after every batch and once at the end; `progress` is borrowed
 * for the call. Return 0 to go on, nonzero to cancel: what was done is committed and the run
 * returns CBIR_OK with a report whose `cancelled` is 1. */
typedef int (*cbir_progress_fn)(void* user, const cbir_ingest_progress_t* progress);

typedef struct cbir_ingest_options_t {
  uint32_t version;          /* sizeof(cbir_ingest_options_t), set by the _INIT macro/function */
  int32_t recursive;         /* folders: descend into sub-folders (default 1) */
  int32_t follow_symlinks;   /* folders: follow symbolic links (default 0) */
  const char* extensions;    /* folders: comma-separated extensions to index, case-insensitive;
                                NULL = "jpg,jpeg,png,bmp,gif,tga,pnm,ppm,pgm,pbm,
                                heic,heif,avif,webp,tif,tiff,jxl"; "" = every file. A file
                                of a format this build lacks fails with CBIR_EIMAGE_FORMAT
                                (cbir_image_formats()). Borrowed for the call. */
  int32_t workers;           /* decoding threads; 0 = one per core */
  int32_t commit_every;      /* commit after this many written items; 0 = 256 */
  int32_t prune;             /* folders: remove items under the folder whose files are gone */
  int32_t fast_decode;       /* decode large JPEGs at a reduced DCT scale (see
                                cbir_preprocess_options_t.fast_decode); default 0 (exact) */
  cbir_progress_fn progress; /* optional */
  void* progress_user;       /* passed to progress */
} cbir_ingest_options_t;

#define CBIR_INGEST_OPTIONS_INIT \
  { sizeof(cbir_ingest_options_t), 1, 0, NULL, 0, 0, 0, 0, NULL, NULL }
/* Sets *opts to the defaults (as CBIR_INGEST_OPTIONS_INIT). NULL is ignored. */
CBIR_API void cbir_ingest_options_init(cbir_ingest_options_t* opts);

/* The outcome of a run: counts, and one entry per file that failed. */
typedef struct cbir_ingest_report_t cbir_ingest_report_t;

typedef struct cbir_ingest_summary_t {
  uint32_t version;     /* set by the caller: sizeof(cbir_ingest_summary_t) */
  uint64_t found;       /* files considered */
  uint64_t added;       /* new items, encoded */
  uint64_t updated;     /* existing items whose file changed, encoded again */
  uint64_t unchanged;   /* skipped: same size and mtime, or same content */
  uint64_t duplicates;  /* same content as another item: vector reused, not encoded */
  uint64_t failed;      /* files that could not be indexed (see cbir_ingest_report_failure) */
  uint64_t removed;     /* pruned items */
  int32_t cancelled;    /* 1 when the progress callback cancelled the run */
  double seconds;
  uint64_t filled;      /* unchanged items encoded for the vector spaces they lacked */
} cbir_ingest_summary_t;

/* Indexes the image files under folder `dir` (see the options). On success *out_report is a
 * report to release with cbir_ingest_report_free(); per-file failures do not fail the call.
 * Errors (then *out_report is NULL): CBIR_EINVAL (NULL argument, bad option, a model without
 * an image tower), CBIR_ENOTFOUND (no such folder), CBIR_EMISMATCH (model and collection differ
 * in fingerprint or dimension), CBIR_EUNSUPPORTED (a read-only collection), CBIR_EIO / CBIR_EMODEL
 * (the collection or the model failed: what was committed before stays). */
CBIR_API int cbir_ingest_dir(cbir_ingest_report_t** out_report, cbir_collection_t* coll,
                             const cbir_model_t* model, const char* dir,
                             const cbir_ingest_options_t* opts);

/* The same for n files given by path (no extension filter; recursive, follow_symlinks and
 * prune do not apply). A path that does not exist is a per-file failure. */
CBIR_API int cbir_ingest_files(cbir_ingest_report_t** out_report, cbir_collection_t* coll,
                               const cbir_model_t* model, const char* const* paths, size_t n,
                               const cbir_ingest_options_t* opts);

/* A model and the vector space its vectors go to (NULL = the collection's first). */
typedef struct cbir_space_model_t {
  const char* space;
  const cbir_model_t* model;
} cbir_space_model_t;

/* As cbir_ingest_dir() and cbir_ingest_files(), with one model per vector space (e.g. Chinese-
 * CLIP for "clip", DINOv2 for "dino"): each file is read and decoded once, then resampled for
 * each model's preprocessing and encoded by each; an item and its vectors in every space are
 * written together (a killed run leaves every item with all of them or none). models[0] is for
 * the collection's first space; each model must be the one its space was made with
 * (CBIR_EMISMATCH). An item already indexed, its file unchanged, that lacks a vector in a space
 * given (a space added later) is encoded for those spaces only: running it again after adding
 * a space fills that space, resuming where a killed run stopped.
 * Errors: as cbir_ingest_dir(), CBIR_ENOTFOUND (no space of a name), CBIR_EINVAL (no models, a
 * space given twice, models[0] not for the first space). */
CBIR_API int cbir_ingest_dir_spaces(cbir_ingest_report_t** out_report, cbir_collection_t* coll,
                                    const cbir_space_model_t* models, size_t n_models,
                                    const char* dir, const cbir_ingest_options_t* opts);
CBIR_API int cbir_ingest_files_spaces(cbir_ingest_report_t** out_report, cbir_collection_t* coll,
                                      const cbir_space_model_t* models, size_t n_models,
                                      const char* const* paths, size_t n,
                                      const cbir_ingest_options_t* opts);

/* Fills *out with the report's counts. Errors: CBIR_EINVAL (NULL, or out->version outside
 * [sizeof(uint32_t), sizeof(cbir_ingest_summary_t)]). */
CBIR_API int cbir_ingest_report_summary(cbir_ingest_summary_t* out,
                                        const cbir_ingest_report_t* report);

/* The number of per-file failures in the report (0 for NULL). */
CBIR_API size_t cbir_ingest_report_failures(const cbir_ingest_report_t* report);

/* Failure `index` (0 <= index < cbir_ingest_report_failures()): the file's path, the status
 * code and the message. The strings are borrowed from the report and live until
 * cbir_ingest_report_free(); any out-pointer may be NULL. Errors: CBIR_EINVAL (NULL report,
 * index out of range). */
CBIR_API int cbir_ingest_report_failure(const cbir_ingest_report_t* report, size_t index,
                                        const char** out_path, int32_t* out_code,
                                        const char** out_message);

/* Releases a report. NULL is accepted. */
CBIR_API void cbir_ingest_report_free(cbir_ingest_report_t* report);

/* @section ingest (issue: ingest pipeline) */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CBIR_H */
