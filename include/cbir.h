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
 *     built against an older header keeps working. Passing NULL means all defaults.
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

/* A bitmask of CBIR_FEATURE_* flags describing this build. */
CBIR_API uint32_t cbir_features(void);

/* One human-readable line describing the build and the machine as the library sees it:
 * versions of LibTorch and FAISS, CUDA devices, default thread counts. Static storage,
 * computed on the first call. */
CBIR_API const char* cbir_build_info(void);

/* Sets the number of threads used by the library's compute kernels (LibTorch intra-op and
 * FAISS/OpenMP) for the whole process; 0 restores the default (the number of cores).
 * Returns CBIR_EINVAL for a negative count. Call it before heavy work starts. */
CBIR_API int cbir_set_threads(int32_t threads);

/* @section tokenizer (issue: tokenizer) */

/* @section image (issue: image path) */

/* @section model (issue: model bundles) */

/* @section collection (issue: collection) */

/* @section ingest (issue: ingest pipeline) */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CBIR_H */
