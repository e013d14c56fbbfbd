/* What the C benchmarks (bench/<name>/bench_<name>.c, built by bench/c_bench.sh) share: a
 * monotonic clock, failing on an error status, seeded pseudo-random numbers, and making a
 * collection of N random 512-d items once. */
#ifndef CBIR_C_BENCH_H
#define CBIR_C_BENCH_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbir.h"

#define DIM 512

static inline double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static inline void check(int st, const char* what) {
  if (st != CBIR_OK) {
    fprintf(stderr, "bench: %s: %s\n", what, cbir_last_error());
    exit(1);
  }
}

/* Deterministic pseudo-random numbers in [-0.5, 0.5) (xorshift). */
static unsigned long long rng_state = 88172645463325252ULL;
static inline float uniform(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
}

/* A random unit vector of DIM floats. */
static inline void random_unit(float* v) {
  double s = 0;
  for (int j = 0; j < DIM; ++j) {
    v[j] = uniform();
    s += (double)v[j] * v[j];
  }
  for (int j = 0; j < DIM; ++j) v[j] = (float)(v[j] / sqrt(s));
}

/* Makes the collection `dir` of n items, 10,000 per add: fill(i, vector, item) writes item i's
 * vector (DIM floats; the previous item's is just before it when i % 10000 > 0) and facts (its
 * uri is set already); then commits, rebuilds to `spec` unless it is "flat", and saves. */
typedef void (*bench_fill_fn)(size_t i, float* vector, cbir_item_t* item);
static inline void make_collection(const char* dir, size_t n, const char* spec, const char* fingerprint,
                            bench_fill_fn fill) {
  cbir_collection_options_t o = CBIR_COLLECTION_OPTIONS_INIT;
  o.flags = CBIR_OPEN_CREATE;
  o.dim = DIM;
  o.fingerprint = fingerprint;
  o.index_spec = "flat";
  cbir_collection_t* c = NULL;
  check(cbir_collection_open(&c, dir, &o), "create");
  const size_t batch = 10000;
  float* vecs = malloc(batch * DIM * sizeof(float));
  cbir_item_t* items = calloc(batch, sizeof(cbir_item_t));
  char(*uris)[32] = malloc(batch * 32);
  for (size_t at = 0; at < n; at += batch) {
    size_t m = n - at < batch ? n - at : batch;
    for (size_t i = 0; i < m; ++i) {
      snprintf(uris[i], 32, "/photos/%zu.jpg", at + i);
      memset(&items[i], 0, sizeof items[i]);
      items[i].uri = uris[i];
      fill(at + i, vecs + i * DIM, &items[i]);
    }
    check(cbir_collection_add(NULL, c, items, vecs, m, DIM), "add");
  }
  check(cbir_collection_commit(c), "commit");
  if (strcmp(spec, "flat") != 0) check(cbir_collection_rebuild(c, spec), "rebuild");
  check(cbir_collection_save(c), "save");
  cbir_collection_close(c);
  free(vecs), free(items), free(uris);
}

#endif
